//! Times the parts of a 12 MP simulated capture.
use std::time::Instant;
use wanda_hardware::camera::encode_jpeg;
use wanda_hardware::camera::starfield::{Exposure, SkyModel, StarField};

fn main() {
    let t = Instant::now();
    let field = StarField::generate(1, 4056, 3040, SkyModel::default());
    println!("generate {:?}", t.elapsed());
    for trail in [0.0, 300.0] {
        let exp = Exposure {
            seconds: 20.0,
            gain: 2.0,
            offset_px: 0.0,
            trail_px: trail,
            bin: 1,
            noise_seed: 1,
        };
        let t = Instant::now();
        let frame = field.render(&exp);
        println!("render trail {trail}: {:?}", t.elapsed());
        let t = Instant::now();
        let d = frame.to_display(1.0);
        println!("display {:?}", t.elapsed());
        let t = Instant::now();
        let j = encode_jpeg(&d, frame.width, frame.height, 1, 90).unwrap();
        println!("jpeg {:?} {}", t.elapsed(), j.len());
    }
}
