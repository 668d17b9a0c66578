//! Times simulated captures (12 MP and default size) and writes the JPEGs.
//!
//! `cargo run --release -p wanda-hardware --example sim_capture [OUT_DIR]`

use std::time::Instant;

use wanda_hardware::{Camera, CameraSettings, SimCamera, SimCameraConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::env::args().nth(1);
    for (label, config) in [
        ("12mp", SimCameraConfig::twelve_megapixel()),
        ("default", SimCameraConfig::default()),
    ] {
        let cam = SimCamera::new(config);
        cam.set_settings(CameraSettings {
            exposure_us: 20_000_000,
            gain: 2.0,
            ..CameraSettings::default()
        })?;
        let start = Instant::now();
        let shot = cam.capture()?;
        let capture = start.elapsed();
        let start = Instant::now();
        let preview = cam.preview()?;
        let preview_time = start.elapsed();
        println!(
            "{label}: {}x{} capture {:.0} ms ({} KiB JPEG), preview {:.0} ms ({} KiB)",
            shot.width,
            shot.height,
            capture.as_secs_f64() * 1e3,
            shot.jpeg.len() / 1024,
            preview_time.as_secs_f64() * 1e3,
            preview.len() / 1024
        );
        if let Some(dir) = &out_dir {
            std::fs::write(format!("{dir}/sim-{label}.jpg"), &shot.jpeg)?;
        }
    }
    Ok(())
}
