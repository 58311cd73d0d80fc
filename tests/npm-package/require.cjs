// Run by node.test.mjs in a fresh process: the package from CommonJS with require(), and
// the same package by import(); the wasm must be read from disk once for both.
const fs = require("node:fs/promises");
const { syncBuiltinESMExports } = require("node:module");
const { basename } = require("node:path");

const wasmReads = [];
const readFile = fs.readFile;
fs.readFile = (path, ...rest) => {
  if (String(path).endsWith(".wasm")) wasmReads.push(basename(String(path)));
  return readFile(path, ...rest);
};
syncBuiltinESMExports();

const required = require("clipcloud");

(async () => {
  const imported = await import("clipcloud");
  const options = { apiKey: process.env.CLIPCLOUD_API_KEY, baseUrl: process.env.CLIPCLOUD_BASE_URL };
  const balances = await Promise.all([
    new required.ClipCloud(options).balance(),
    new imported.ClipCloud(options).balance(),
  ]);
  const sameClass = required.ClipCloud === imported.ClipCloud;
  console.log(JSON.stringify({ balances, sameClass, wasmReads }));
})();
