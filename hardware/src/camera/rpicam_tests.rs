//! Tests of the rpicam-still driver against fake `rpicam-still` scripts.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::*;
use crate::camera::image::{decode_jpeg, encode_jpeg};

const LISTING: &str = "Available cameras
-----------------
0 : imx477 [4056x3040 12-bit RGGB] (/base/soc/i2c0mux/i2c@1/imx477@1a)
    Modes: 'SRGGB10_CSI2P' : 1332x990 [120.05 fps - (696, 528)/2664x1980 crop]
           'SRGGB12_CSI2P' : 2028x1080 [50.03 fps - (0, 440)/4056x2160 crop]
                             4056x3040 [10.00 fps - (0, 0)/4056x3040 crop]
";

/// A fake `rpicam-still` that logs its arguments, answers
/// `--list-cameras`, copies a fixture JPEG to `-o` and writes a DNG
/// stub with `--raw`.
const FAKE_OK: &str = r#"#!/bin/sh
dir=$(dirname "$0")
echo "$@" >> "$dir/args.log"
out=""; raw=0
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift ;;
    --raw) raw=1 ;;
    --list-cameras) cat "$dir/listing.txt"; exit 0 ;;
  esac
  shift
done
cp "$dir/fixture.jpg" "$out"
if [ $raw = 1 ]; then printf 'II*\000fake-dng' > "${out%.*}.dng"; fi
exit 0
"#;

struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new(script: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rpicam-still");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.path().join("listing.txt"), LISTING).unwrap();
        let grey: Vec<u8> = (0..64 * 48).map(|i| (i % 200) as u8 + 20).collect();
        let jpeg = encode_jpeg(&grey, 64, 48, 1, 90).unwrap();
        std::fs::write(dir.path().join("fixture.jpg"), jpeg).unwrap();
        Self { dir }
    }

    fn program(&self) -> PathBuf {
        self.dir.path().join("rpicam-still")
    }

    fn config(&self) -> RpicamConfig {
        RpicamConfig {
            program: self.program(),
            ..RpicamConfig::default()
        }
    }

    fn args(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("args.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn failing(stderr: &str, code: i32) -> String {
    format!(
        "#!/bin/sh\necho 'Preview window unavailable' >&2\necho \"{stderr}\" >&2\nexit {code}\n"
    )
}

fn camera(fake: &Fake) -> RpicamCamera {
    RpicamCamera::with_listing(fake.config(), parse_list_cameras(LISTING).remove(0))
}

#[test]
fn parses_list_cameras_output() {
    let cams = parse_list_cameras(LISTING);
    assert_eq!(
        cams,
        vec![CsiCameraListing {
            index: 0,
            sensor: "imx477".into(),
            width: 4056,
            height: 3040,
            bit_depth: Some(12),
        }]
    );
    assert!(parse_list_cameras("No cameras available!\n").is_empty());
}

#[test]
fn open_detects_the_camera() {
    let fake = Fake::new(FAKE_OK);
    let cam = RpicamCamera::open(fake.config()).unwrap();
    let info = cam.info();
    assert_eq!(
        (info.kind, info.name.as_str()),
        (CameraDriver::Csi, "imx477")
    );
    assert_eq!((info.width, info.height), (4056, 3040));
    assert_eq!(fake.args(), vec!["--list-cameras"]);
}

#[test]
fn capture_passes_settings_and_returns_jpeg_and_dng() {
    let fake = Fake::new(FAKE_OK);
    let cam = camera(&fake);
    cam.set_settings(CameraSettings {
        exposure_us: 30_000_000,
        gain: 4.0,
        night_vision_gain: 1.0,
        save_raw: true,
    })
    .unwrap();
    let shot = cam.capture().unwrap();
    let fixture = std::fs::read(fake.dir.path().join("fixture.jpg")).unwrap();
    assert_eq!(shot.jpeg, fixture);
    assert_eq!((shot.width, shot.height), (64, 48));
    let raw = shot.raw.unwrap();
    assert_eq!(raw.format, RawFormat::Dng);
    assert_eq!(raw.bytes, b"II*\0fake-dng");
    let args = fake.args();
    let words: Vec<&str> = args[0].split(' ').collect();
    assert_eq!(&words[..3], ["--immediate", "-n", "-o"]);
    assert!(words[3].ends_with("capture.jpg"));
    assert!(!Path::new(words[3]).exists(), "temporary files are removed");
    assert_eq!(
        &words[4..],
        ["--shutter", "30000000", "--gain", "4", "--raw"]
    );
    assert!(!cam.is_capturing());
}

#[test]
fn night_vision_and_preview() {
    let fake = Fake::new(FAKE_OK);
    let cam = camera(&fake);
    cam.set_settings(CameraSettings {
        exposure_us: 200_000_000,
        gain: 1.5,
        night_vision_gain: 5.0,
        save_raw: false,
    })
    .unwrap();
    let mean = |j: &[u8]| {
        let d = decode_jpeg(j).unwrap();
        d.pixels.iter().map(|&v| f64::from(v)).sum::<f64>() / d.pixels.len() as f64
    };
    let fixture = std::fs::read(fake.dir.path().join("fixture.jpg")).unwrap();
    let shot = cam.capture().unwrap();
    assert!(shot.raw.is_none());
    assert!(mean(&shot.jpeg) > mean(&fixture) * 1.3);
    let preview = cam.preview().unwrap();
    assert!(mean(&preview) > mean(&fixture) * 1.3);
    let args = fake.args();
    assert!(!args[0].contains("--raw"));
    assert!(args[1].contains("--shutter 1000000 --gain 1.5 --width 640 --height 480"));
}

#[test]
fn errors_are_explained() {
    let cases = [
        (
            failing("ERROR: *** no cameras available ***", 255),
            "no camera found",
        ),
        (
            failing(
                "ERROR: *** failed to acquire camera /base/soc/i2c0mux/i2c@1/imx477@1a ***",
                255,
            ),
            "camera busy",
        ),
        (
            failing("unrecognised option '--immediate'", 255),
            "rejected an option",
        ),
        (
            failing("ERROR: *** sensor timed out ***", 1),
            "ERROR: *** sensor timed out ***",
        ),
    ];
    for (script, expected) in cases {
        let fake = Fake::new(&script);
        let err = camera(&fake).capture().unwrap_err().to_string();
        assert!(err.contains(expected), "{err:?} lacks {expected:?}");
    }
    let fake = Fake::new("#!/bin/sh\nexit 0\n");
    let err = camera(&fake).capture().unwrap_err().to_string();
    assert!(err.contains("wrote no JPEG"), "{err}");
}

#[test]
fn missing_program_is_not_found() {
    let config = RpicamConfig {
        program: PathBuf::from("/nonexistent/rpicam-still"),
        ..RpicamConfig::default()
    };
    let err = RpicamCamera::open(config).err().unwrap();
    assert!(matches!(err, CameraError::NotFound(_)), "{err}");
}

#[test]
fn slow_capture_times_out_with_exposure_scaled_deadline() {
    let fake = Fake::new("#!/bin/sh\nexec sleep 30\n");
    let mut config = fake.config();
    config.timeout_base = Duration::from_millis(100);
    assert_eq!(
        config.timeout_for(100_000),
        Duration::from_millis(400),
        "base + 3 × exposure"
    );
    let cam = RpicamCamera::with_listing(config, parse_list_cameras(LISTING).remove(0));
    cam.set_settings(CameraSettings {
        exposure_us: 100_000,
        ..CameraSettings::default()
    })
    .unwrap();
    let start = std::time::Instant::now();
    let err = cam.capture().unwrap_err();
    assert!(matches!(err, CameraError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("0.4 s"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
}
