//! `heapdiff-benchgen FORMAT STACKS OUTDIR`: writes a generated pair,
//! `OUTDIR/before.EXT` and `OUTDIR/after.EXT`, for the benchmarks.
//!
//! FORMAT is `pprof` (`.pb.gz`), `jemalloc` (`.heap`), `tracemalloc`
//! (`.tm`) or `folded` (`.folded`); STACKS the number of distinct stacks of
//! the after profile; `--depth N` and `--functions N` change the shape.

use std::path::PathBuf;
use std::process::ExitCode;

use heapdiff_benchgen::{Shape, folded_pair, jemalloc_pair, pprof_pair, tracemalloc_pair};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut positional = Vec::new();
    let mut shape = Shape::with_stacks(0);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |name: &str| -> Option<usize> {
            let v = it.next().and_then(|v| v.parse().ok());
            if v.is_none() {
                eprintln!("heapdiff-benchgen: {name} needs a number");
            }
            v
        };
        match a.as_str() {
            "--depth" => match number("--depth") {
                Some(v) => shape.depth = v,
                None => return ExitCode::from(2),
            },
            "--functions" => match number("--functions") {
                Some(v) => shape.functions = v,
                None => return ExitCode::from(2),
            },
            _ => positional.push(a.clone()),
        }
    }
    let [format, stacks, dir] = positional.as_slice() else {
        eprintln!(
            "usage: heapdiff-benchgen pprof|jemalloc|tracemalloc|folded STACKS OUTDIR [--depth N] [--functions N]"
        );
        return ExitCode::from(2);
    };
    let Ok(stacks) = stacks.parse() else {
        eprintln!("heapdiff-benchgen: STACKS must be a number");
        return ExitCode::from(2);
    };
    shape.stacks = stacks;
    let dir = PathBuf::from(dir);
    let (ext, before, after) = match format.as_str() {
        "pprof" => {
            let (b, a) = pprof_pair(&shape);
            ("pb.gz", b, a)
        }
        "jemalloc" => {
            let (b, a) = jemalloc_pair(&shape);
            ("heap", b.into_bytes(), a.into_bytes())
        }
        "tracemalloc" => {
            let (b, a) = tracemalloc_pair(&shape);
            ("tm", b, a)
        }
        "folded" => {
            let (b, a) = folded_pair(&shape);
            ("folded", b.into_bytes(), a.into_bytes())
        }
        other => {
            eprintln!("heapdiff-benchgen: unknown format {other:?}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join(format!("before.{ext}")), before))
        .and_then(|()| std::fs::write(dir.join(format!("after.{ext}")), after))
    {
        eprintln!("heapdiff-benchgen: {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
