//! Lets binaries and test executables find libtorch without LD_LIBRARY_PATH: torch-sys tells
//! its direct dependents where libtorch lives, and we record it as an rpath.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
