//! Precompressed copies of the SPA's files (`x.gz` and `x.br` beside `x`). The gateway
//! sends one of them when the browser accepts its encoding, as any static host set up
//! for precompressed files does (nginx's `gzip_static`, for one), so a visit downloads the
//! compressed bytes and no server spends time compressing.
//!
//! The gzip copy is written by zopfli: the same format every gzip decoder reads, at its
//! densest (a few percent under `gzip -9`). Brotli (quality 11) is smaller still; browsers
//! ask for it over HTTPS and from localhost.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The files a browser downloads, by extension.
const SERVED: [&str; 5] = ["html", "js", "wasm", "css", "svg"];

/// The sizes of a file's two copies.
#[derive(Clone, Copy)]
pub struct Copies {
    pub gzip: u64,
    pub brotli: u64,
}

impl std::iter::Sum for Copies {
    fn sum<I: Iterator<Item = Copies>>(iter: I) -> Self {
        iter.fold(Copies { gzip: 0, brotli: 0 }, |a, b| Copies {
            gzip: a.gzip + b.gzip,
            brotli: a.brotli + b.brotli,
        })
    }
}

/// `file` with `suffix` added to its name (`app.wasm` → `app.wasm.br`).
pub fn copy_path(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes both copies of every served file in `dir` (copies from an earlier run are
/// replaced; Trunk empties `dist/` on each build anyway).
pub fn write_copies(dir: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for path in entries.flatten().map(|e| e.path()) {
        let served = path.extension().is_some_and(|e| SERVED.iter().any(|x| e == *x));
        if path.is_file() && served {
            let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            write(&copy_path(&path, ".gz"), &gzip(&bytes)?)?;
            write(&copy_path(&path, ".br"), &brotli(&bytes)?)?;
        }
    }
    Ok(())
}

/// The sizes of `file`'s copies, if both are there.
pub fn copies(file: &Path) -> Option<Copies> {
    let size = |suffix| std::fs::metadata(copy_path(file, suffix)).ok().map(|m| m.len());
    Some(Copies { gzip: size(".gz")?, brotli: size(".br")? })
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    zopfli::compress(zopfli::Options::default(), zopfli::Format::Gzip, bytes, &mut out)
        .map_err(|e| format!("zopfli failed: {e}"))?;
    Ok(out)
}

fn brotli(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        // Quality 11 (the densest), a 4 MiB window: more than any of these files.
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        writer.write_all(bytes).map_err(|e| format!("brotli failed: {e}"))?;
    }
    Ok(out)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn copies_decode_to_the_file() {
        // Words in a pseudo-random order: text that compresses, as the real files do.
        let words = ["fetch", "wasm", "style", "prompt", "creation", "balance", "{", "}", "\n"];
        let mut seed = 7u32;
        let text: Vec<u8> = (0..3000)
            .flat_map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                words[(seed >> 16) as usize % words.len()].bytes().chain([b' '])
            })
            .collect();
        let gz = gzip(&text).unwrap();
        assert_eq!(&gz[..2], &[0x1f, 0x8b], "a gzip member");
        let mut back = Vec::new();
        brotli::Decompressor::new(&brotli(&text).unwrap()[..], 4096).read_to_end(&mut back).unwrap();
        assert_eq!(back, text);
        // gzip's own decoder reads zopfli's output.
        let dir = std::env::temp_dir().join(format!("xtask-compress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.js");
        std::fs::write(&file, &text).unwrap();
        write_copies(&dir).unwrap();
        let out =
            std::process::Command::new("gzip").arg("-dc").arg(copy_path(&file, ".gz")).output().unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, text);
        assert!(copies(&file).is_some_and(|c| c.gzip > 0 && c.brotli > 0));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
