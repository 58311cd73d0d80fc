// What an app does: import the package by name; Vite bundles it and emits the wasm.
import { ClipCloud, ClipCloudError, init } from "clipcloud";

window.clipcloud = { ClipCloud, ClipCloudError, init };
