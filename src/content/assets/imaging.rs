//! Making an image's variant: decoding the original within bounds (pixels and
//! memory), resizing and cropping as the variant says, encoding it. Blocking: the
//! caller runs it off the request threads (`serve`).

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageEncoder, ImageReader, Limits, imageops};

use super::variants::{Fit, Format, Variant};
use crate::platform::error::{AppError, FieldError, codes};

/// The most pixels an image is decoded with, and the memory its decoder may use.
const MAX_PIXELS: u64 = 40_000_000;
const MAX_ALLOC: u64 = 256 << 20;

/// Why a variant could not be made.
#[derive(Debug)]
pub enum Unmade {
    /// The image is not one that can be decoded within the bounds.
    Invalid(String),
    Failed(String),
}

impl From<Unmade> for AppError {
    fn from(unmade: Unmade) -> Self {
        match unmade {
            Unmade::Invalid(detail) => FieldError::coded(codes::INVALID, "/file", detail).into(),
            Unmade::Failed(detail) => AppError::internal(detail),
        }
    }
}

/// The variant's bytes, made from the original at `path`, cropped around `focal`
/// (0 to 1 from the left and the top) if it covers.
pub fn make(path: &Path, variant: &Variant, focal: Option<(f32, f32)>) -> Result<Vec<u8>, Unmade> {
    let focal = focal.filter(|_| variant.focus.is_some());
    let image = decode(path)?;
    let shaped = shape(image, variant, focal);
    encode(&shaped, variant)
}

fn decode(path: &Path) -> Result<DynamicImage, Unmade> {
    let mut reader = ImageReader::open(path)
        .and_then(ImageReader::with_guessed_format)
        .map_err(|error| Unmade::Failed(error.to_string()))?;
    let (width, height) = reader
        .into_dimensions()
        .map_err(|error| Unmade::Invalid(format!("the image cannot be read: {error}")))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Unmade::Invalid(format!(
            "the image has {width} x {height} pixels; variants are made of images of at most {MAX_PIXELS}"
        )));
    }
    reader = ImageReader::open(path)
        .and_then(ImageReader::with_guessed_format)
        .map_err(|error| Unmade::Failed(error.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|error| Unmade::Invalid(format!("the image cannot be decoded: {error}")))
}

/// The image resized (never enlarged) and cropped as the variant says.
fn shape(image: DynamicImage, variant: &Variant, focal: Option<(f32, f32)>) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    let (w, h) = (variant.w.unwrap_or(u32::MAX), variant.h.unwrap_or(u32::MAX));
    let filter = imageops::FilterType::CatmullRom;
    match variant.fit {
        Fit::Inside => {
            let (w, h) = (w.min(width), h.min(height));
            image.resize(w, h, filter)
        }
        Fit::Contain => {
            let (w, h) = (w.min(width), h.min(height));
            let inner = image.resize(w, h, filter);
            let mut canvas = image::RgbaImage::from_pixel(w, h, image::Rgba([255, 255, 255, 0]));
            let x = i64::from((w - inner.width()) / 2);
            let y = i64::from((h - inner.height()) / 2);
            imageops::overlay(&mut canvas, &inner.to_rgba8(), x, y);
            DynamicImage::ImageRgba8(canvas)
        }
        Fit::Cover => {
            // The largest window of the variant's proportions that fits the image,
            // centred on the focal point as far as the edges allow.
            let (w, h) = (w.min(width), h.min(height));
            let scale = f64::min(
                f64::from(width) / f64::from(w),
                f64::from(height) / f64::from(h),
            );
            let crop_w = (f64::from(w) * scale).round().clamp(1.0, f64::from(width)) as u32;
            let crop_h = (f64::from(h) * scale).round().clamp(1.0, f64::from(height)) as u32;
            let (fx, fy) = focal.unwrap_or((0.5, 0.5));
            let left = centred(f64::from(fx) * f64::from(width), crop_w, width);
            let top = centred(f64::from(fy) * f64::from(height), crop_h, height);
            image
                .crop_imm(left, top, crop_w, crop_h)
                .resize_exact(w, h, filter)
        }
    }
}

/// Where a window of `size` starts, centred on `centre` within `whole`.
fn centred(centre: f64, size: u32, whole: u32) -> u32 {
    let start = (centre - f64::from(size) / 2.0).round().max(0.0) as u32;
    start.min(whole - size)
}

fn encode(image: &DynamicImage, variant: &Variant) -> Result<Vec<u8>, Unmade> {
    let mut bytes = Cursor::new(Vec::new());
    let failed = |error: image::ImageError| Unmade::Failed(error.to_string());
    match variant.format {
        Format::Jpeg => {
            // JPEG has no transparency: the image on white.
            let mut canvas =
                image::RgbaImage::from_pixel(image.width(), image.height(), image::Rgba([255; 4]));
            imageops::overlay(&mut canvas, &image.to_rgba8(), 0, 0);
            let rgb = DynamicImage::ImageRgba8(canvas).to_rgb8();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, variant.q)
                .write_image(
                    &rgb,
                    rgb.width(),
                    rgb.height(),
                    image::ExtendedColorType::Rgb8,
                )
                .map_err(failed)?;
        }
        Format::Png => {
            let rgba = image.to_rgba8();
            image::codecs::png::PngEncoder::new(&mut bytes)
                .write_image(
                    &rgba,
                    rgba.width(),
                    rgba.height(),
                    image::ExtendedColorType::Rgba8,
                )
                .map_err(failed)?;
        }
        Format::Webp => {
            let rgba = image.to_rgba8();
            image::codecs::webp::WebPEncoder::new_lossless(&mut bytes)
                .write_image(
                    &rgba,
                    rgba.width(),
                    rgba.height(),
                    image::ExtendedColorType::Rgba8,
                )
                .map_err(failed)?;
        }
    }
    Ok(bytes.into_inner())
}
