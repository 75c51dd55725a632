//! The images of `download` (notebook §8): the tutorial's 14 names, their PNG files made
//! deterministically, and the manifest (name, length, sha256) a download is checked against.
//!
//! The local image server serves these bytes; a test or a demo can make the same set here
//! and compare. Each of the 14 has its own pattern and size, so that a file saved under the
//! wrong name, or cut short, cannot pass for another. A larger set (`--images N`) goes on
//! with `<name>-<k>`: the k-th round of the 14 names, each with its name's size and a pattern
//! of its own.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The tutorial's image names, in its order; each is served as `<name>.png`.
pub const NAMES: [&str; 14] = [
    "airplane",
    "arctichare",
    "baboon",
    "boat",
    "cat",
    "fruits",
    "frymire",
    "girl",
    "monarch",
    "mountain",
    "pool",
    "peppers",
    "serrano",
    "tulips",
];

/// The most images the local server serves (`--images`).
pub const MAX_IMAGES: usize = 10_000;

/// The most bytes the local server holds, as images × mean size in KiB: what 14 images of
/// the largest mean size make (448 MiB).
pub const MAX_TOTAL_KIB: u64 = NAMES.len() as u64 * MAX_MEAN_KIB as u64;

/// The mean image size in KiB by default: the images range from about a seventh of it
/// to about twice it (tens to hundreds of KiB).
pub const DEFAULT_MEAN_KIB: u32 = 150;
/// The largest `--image-kib` accepted (14 images of up to twice this stay under 1 GiB).
pub const MAX_MEAN_KIB: u32 = 32 * 1024;

/// One line of the manifest: what a correct download of one image holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The file name, e.g. `airplane.png`.
    pub name: String,
    pub length: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// One image: its file name and its bytes.
#[derive(Clone, Debug)]
pub struct Image {
    pub file_name: String,
    pub png: Vec<u8>,
}

impl Image {
    pub fn manifest_entry(&self) -> ManifestEntry {
        ManifestEntry {
            name: self.file_name.clone(),
            length: self.png.len() as u64,
            sha256: sha256_hex(&self.png),
        }
    }
}

/// The tutorial's 14 images for a mean size of `mean_kib`, always the same bytes for the
/// same size.
pub fn generate(mean_kib: u32) -> Vec<Image> {
    generate_set(NAMES.len(), mean_kib)
}

/// The first `count` images of the endless set ([`name_of`]) for a mean size of `mean_kib`:
/// the 14 of the tutorial first, always the same bytes for the same count and size.
pub fn generate_set(count: usize, mean_kib: u32) -> Vec<Image> {
    (0..count)
        .map(|index| {
            let name = name_of(index);
            let png = render_png(&name, target_bytes(index % NAMES.len(), mean_kib));
            Image {
                file_name: format!("{name}.png"),
                png,
            }
        })
        .collect()
}

/// Image `index`'s name (without `.png`): the tutorial's names for the first 14, then
/// `airplane-1` … `tulips-1`, `airplane-2`, …
pub fn name_of(index: usize) -> String {
    let name = NAMES[index % NAMES.len()];
    match index / NAMES.len() {
        0 => name.to_string(),
        round => format!("{name}-{round}"),
    }
}

/// Checks that `count` images of a mean size of `mean_kib` are a set the local server may
/// hold: [`MAX_TOTAL_KIB`] in all (the count itself is bounded where it is parsed).
pub fn check_set(count: usize, mean_kib: u32) -> Result<(), String> {
    let total_kib = count as u64 * u64::from(mean_kib);
    if total_kib > MAX_TOTAL_KIB {
        return Err(format!(
            "{count} images of a mean {mean_kib} KiB make {} MiB, more than the local image \
             server holds ({} MiB): lower --images or --image-kib",
            total_kib / 1024,
            MAX_TOTAL_KIB / 1024
        ));
    }
    Ok(())
}

/// The manifest of [`generate`]`(mean_kib)`.
pub fn manifest(images: &[Image]) -> Vec<ManifestEntry> {
    images.iter().map(Image::manifest_entry).collect()
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of a digest.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Image `index` is (index + 1) · 2 / 15 of the mean: the 14 sizes average to the mean.
fn target_bytes(index: usize, mean_kib: u32) -> usize {
    mean_kib as usize * 1024 * 2 * (index + 1) / 15
}

/// An RGB picture of about `target` bytes once encoded: a pattern of the name's own
/// stripes and rings with noise in the low bits. The noise keeps deflate from shrinking
/// it much, so the file size follows the pixel count.
fn render_png(name: &str, target: usize) -> Vec<u8> {
    const WIDTH: u32 = 256;
    let mut rng = SplitMix64(fnv1a(name.as_bytes()));
    // Deflate keeps about 3/4 of these pixels' bytes.
    let height = u32::try_from(target * 4 / 3 / (WIDTH as usize * 3))
        .unwrap_or(u32::MAX)
        .max(4);
    let (fx, fy, phase) = (
        1 + rng.next() % 7,
        1 + rng.next() % 5,
        (rng.next() % 256) as u32,
    );
    let mut pixels = Vec::with_capacity((WIDTH * height * 3) as usize);
    for y in 0..height {
        for x in 0..WIDTH {
            let noise = rng.next();
            let stripes = (x * fx as u32 + y * fy as u32 + phase) & 0xff;
            let (dx, dy) = (x as i64 - 128, (y as i64 - i64::from(height) / 2) % 256);
            let rings = ((dx * dx + dy * dy) / 64) as u32 & 0xff;
            pixels.push(((stripes & 0xe0) | (noise & 0x1f) as u32) as u8);
            pixels.push(((rings & 0xe0) | ((noise >> 8) & 0x1f) as u32) as u8);
            pixels.push((((stripes ^ rings) & 0xe0) | ((noise >> 16) & 0x1f) as u32) as u8);
        }
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, WIDTH, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .expect("a PNG header into memory cannot fail");
    writer
        .write_image_data(&pixels)
        .expect("the pixel buffer has exactly width × height × 3 bytes");
    writer.finish().expect("finishing a PNG into memory");
    png
}

/// FNV-1a: the seed of an image's pattern, from its name.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A tiny deterministic generator (SplitMix64): the same name always draws the same noise.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_real_pngs_of_different_sizes_tens_to_hundreds_of_kib() {
        let images = generate(DEFAULT_MEAN_KIB);
        assert_eq!(images.len(), 14);
        let mut lengths: Vec<usize> = images.iter().map(|i| i.png.len()).collect();
        for image in &images {
            assert_eq!(&image.png[..8], b"\x89PNG\r\n\x1a\n", "{}", image.file_name);
            let kib = image.png.len() / 1024;
            assert!(
                (10..1000).contains(&kib),
                "{} is {kib} KiB",
                image.file_name
            );
        }
        lengths.dedup();
        assert_eq!(lengths.len(), 14, "every size differs");
    }

    #[test]
    fn generation_is_deterministic_and_names_differ() {
        let first = manifest(&generate(16));
        assert_eq!(first, manifest(&generate(16)));
        let mut hashes: Vec<&str> = first.iter().map(|e| e.sha256.as_str()).collect();
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), 14);
        assert_eq!(first[0].name, "airplane.png");
    }

    #[test]
    fn a_larger_set_goes_on_with_numbered_rounds_of_the_names() {
        assert_eq!(name_of(0), "airplane");
        assert_eq!(name_of(13), "tulips");
        assert_eq!(name_of(14), "airplane-1");
        assert_eq!(name_of(29), "arctichare-2");
        let set = generate_set(16, 4);
        let names: Vec<&str> = set.iter().map(|i| i.file_name.as_str()).collect();
        assert_eq!(names[14..], ["airplane-1.png", "arctichare-1.png"]);
        // The first 14 are the tutorial's own, byte for byte.
        assert_eq!(manifest(&set[..14]), manifest(&generate(4)));
        assert_eq!(&set[14].png[..8], b"\x89PNG\r\n\x1a\n");
        assert_ne!(set[14].png, set[0].png, "a pattern of its own");
        let mut hashes: Vec<String> = manifest(&set).into_iter().map(|e| e.sha256).collect();
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), 16);
    }

    #[test]
    fn a_set_is_bounded_in_count_and_in_bytes() {
        assert_eq!(check_set(14, DEFAULT_MEAN_KIB), Ok(()));
        assert_eq!(check_set(MAX_IMAGES, 16), Ok(()));
        assert_eq!(
            check_set(14, MAX_MEAN_KIB),
            Ok(()),
            "the tutorial's set at its largest"
        );
        let refused = check_set(15, MAX_MEAN_KIB).unwrap_err();
        assert_eq!(
            refused,
            "15 images of a mean 32768 KiB make 480 MiB, more than the local image server \
             holds (448 MiB): lower --images or --image-kib"
        );
    }

    #[test]
    fn sha256_matches_a_known_value() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
