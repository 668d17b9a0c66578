#![warn(missing_docs)]
//! Camera and mount drivers for WANDA, the Raspberry Pi telescope.
//!
//! This crate knows nothing of IPFS, HTTP or the application: it offers a
//! [`Camera`] trait (CSI via `rpicam-still`, USB via V4L2 behind the `v4l`
//! feature, and a star-field simulator) and a [`Mount`] trait (a simulator
//! and a stepper driver whose GPIO backend is behind the `gpio` feature).
//!
//! Camera calls block (up to the exposure time): call them from tokio with
//! `spawn_blocking`. Mount calls are cheap.

pub mod camera;
pub mod clock;
pub mod mount;
pub mod tracking;

pub use camera::{
    Camera, CameraDriver, CameraError, CameraInfo, CameraKind, CameraSettings, CameraStatus,
    Capture, DetectConfig, RawFormat, RawImage, RpicamCamera, RpicamConfig, SimCamera,
    SimCameraConfig, open_camera,
};
pub use clock::SimClock;
pub use mount::{
    CoilOutput, Drive, DriveGeometry, Hemisphere, Mount, MountError, MountStatus, RecordingOutput,
    SimMount, StepSequence, StepperConfig, StepperMount,
};
pub use tracking::TrackingSource;
