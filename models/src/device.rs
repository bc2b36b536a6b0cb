//! Choosing where the network runs. Rust links with `--as-needed`, which drops
//! libtorch_cuda from the binary since no symbol of it is called directly;
//! CUDA support is therefore loaded at run time when it is installed, so one
//! binary serves CPU-only and CUDA installs alike.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// What the user asked for with `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum DeviceChoice {
    /// CUDA device 0 when present, else the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// A CUDA device by index.
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceChoice::Cuda)
                .ok_or_else(|| format!("unknown device {s:?}: use auto, cpu, cuda or cuda:N")),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => f.write_str("auto"),
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// A device that cannot be used, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// CUDA was asked for but is not usable here.
    #[error("--device {asked}: {why}; use --device cpu or --device auto")]
    CudaUnavailable {
        /// The device asked for.
        asked: DeviceChoice,
        /// Why it cannot be used.
        why: String,
    },
}

/// Whether libtorch's CUDA support loaded, and if not, why.
fn cuda_support() -> &'static Result<(), String> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    LOADED.get_or_init(|| {
        // Loading the library runs its static initialisers, which register
        // the CUDA backend with libtorch; the handle must stay open for good.
        // SAFETY: libtorch_cuda's initialisers only register hooks with the
        // libtorch already loaded in this process.
        match unsafe { libloading::Library::new("libtorch_cuda.so") } {
            Ok(lib) => {
                std::mem::forget(lib);
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    })
}

/// What this process can run on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Devices {
    /// Number of usable CUDA devices.
    pub cuda_devices: usize,
    /// Why there are none, when there are none.
    pub cuda_missing: Option<String>,
    /// Threads libtorch uses on the CPU.
    pub cpu_threads: i32,
}

/// Probes CUDA support once and reports the devices.
pub fn devices() -> Devices {
    let (cuda_devices, cuda_missing) = match cuda_support() {
        Err(e) => (0, Some(format!("libtorch CUDA support not loaded ({e})"))),
        Ok(()) if !tch::Cuda::is_available() => (0, Some("no CUDA device or driver".into())),
        Ok(()) => (tch::Cuda::device_count().max(0) as usize, None),
    };
    Devices { cuda_devices, cuda_missing, cpu_threads: tch::get_num_threads() }
}

/// Whether the NVIDIA driver shows a GPU on this machine, whatever
/// libtorch can make of it.
fn nvidia_gpu_present() -> bool {
    std::path::Path::new("/dev/nvidia0").exists() || std::path::Path::new("/proc/driver/nvidia/gpus").is_dir()
}

/// Resolves a choice to a tch device. `auto` falls back to the CPU, quietly
/// unless a GPU is present; an explicit CUDA device that is missing is an error.
pub fn resolve(choice: DeviceChoice) -> Result<tch::Device, DeviceError> {
    match choice {
        DeviceChoice::Cpu => Ok(tch::Device::Cpu),
        DeviceChoice::Auto => {
            let d = devices();
            if d.cuda_devices > 0 {
                Ok(tch::Device::Cuda(0))
            } else {
                let why = d.cuda_missing.unwrap_or_default();
                // On a machine without a GPU the CPU is the expected place,
                // and the loader's text is noise; with a GPU present it is
                // the first thing to fix.
                if nvidia_gpu_present() {
                    tracing::warn!(
                        "running on the CPU although this machine has an NVIDIA GPU: {why}; install libtorch with CUDA (make parity) or pass --device cpu"
                    );
                } else {
                    tracing::info!("running on the CPU (no CUDA here: {why})");
                }
                Ok(tch::Device::Cpu)
            }
        }
        DeviceChoice::Cuda(n) => {
            let d = devices();
            match d.cuda_missing {
                Some(why) => Err(DeviceError::CudaUnavailable { asked: choice, why }),
                None if n >= d.cuda_devices => Err(DeviceError::CudaUnavailable {
                    asked: choice,
                    why: format!("only {} CUDA device(s) here", d.cuda_devices),
                }),
                None => Ok(tch::Device::Cuda(n)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse() {
        assert_eq!("auto".parse(), Ok(DeviceChoice::Auto));
        assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("cuda:2".parse(), Ok(DeviceChoice::Cuda(2)));
        assert!("gpu".parse::<DeviceChoice>().is_err());
        assert_eq!(DeviceChoice::Cuda(1).to_string(), "cuda:1");
    }

    #[test]
    fn cpu_always_resolves() {
        assert_eq!(resolve(DeviceChoice::Cpu).unwrap(), tch::Device::Cpu);
        assert!(resolve(DeviceChoice::Auto).is_ok());
    }
}
