//! Image variants: an image's bytes at another size or in another format,
//! asked for on its URL (`?preset=card`, or `?w=640&h=400&fit=cover&format=webp&q=80`).
//! The values come from a fixed grid (the widths and heights of `SIZES`, three
//! fits, three formats, four qualities), so no request can make the service
//! produce files without end. Each variant is made once, off the request threads
//! and two at a time at most, with the decoder bounded in pixels and memory; it is
//! kept beside the original and served like it.

use crate::platform::error::{AppError, AppResult};
use crate::platform::query::Params;

/// The widths and heights a variant may have, in pixels.
pub const SIZES: &[u32] = &[160, 320, 480, 640, 960, 1280, 1600, 1920];
/// The qualities a JPEG variant may have.
pub const QUALITIES: &[u8] = &[50, 65, 80, 90];

/// A named variant, the same for every image.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    pub w: u32,
    pub h: Option<u32>,
    pub fit: Fit,
}

/// The presets, which an image's item lists as `variants`.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "thumb",
        w: 160,
        h: Some(160),
        fit: Fit::Cover,
    },
    Preset {
        name: "card",
        w: 640,
        h: Some(400),
        fit: Fit::Cover,
    },
    Preset {
        name: "hero",
        w: 1600,
        h: Some(900),
        fit: Fit::Cover,
    },
    Preset {
        name: "full",
        w: 1920,
        h: None,
        fit: Fit::Inside,
    },
];

/// How an image meets a width and a height. None of them makes it larger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Exactly the size, cropped around the focal point (the centre without one).
    Cover,
    /// Exactly the size, the whole image inside it, the rest filled (transparent,
    /// or white in a JPEG).
    Contain,
    /// Within the size, the whole image, its proportions kept.
    Inside,
}

impl Fit {
    /// Its name in a URL and in a variant's key.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cover => "cover",
            Self::Contain => "contain",
            Self::Inside => "inside",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Webp,
    Jpeg,
    Png,
}

impl Format {
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Webp => "image/webp",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }

    pub(super) fn extension(self) -> &'static str {
        match self {
            Self::Webp => "webp",
            Self::Jpeg => "jpg",
            Self::Png => "png",
        }
    }

    fn of(media_type: &str) -> Self {
        match media_type {
            "image/jpeg" => Self::Jpeg,
            "image/png" => Self::Png,
            _ => Self::Webp,
        }
    }
}

/// A variant an image is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub w: Option<u32>,
    pub h: Option<u32>,
    pub fit: Fit,
    pub format: Format,
    /// JPEG's quality; WebP variants are lossless and PNG's have none.
    pub q: u8,
    /// The focal point a cover is cropped around, as its URL gives it (`focus=`):
    /// it must be the asset's own (`focus_of`), so that a URL names one crop.
    pub focus: Option<String>,
}

/// The focal point a variant's URL names for an asset whose focal point is
/// `focal`, if the variant is cropped (`cover`) and the asset has one.
pub fn focus_of(fit: Fit, focal: Option<(f32, f32)>) -> Option<String> {
    focal
        .filter(|_| fit == Fit::Cover)
        .map(|(x, y)| format!("{x:.3},{y:.3}"))
}

fn choice<T: Copy>(params: &mut Params, name: &str, values: &[(&str, T)]) -> AppResult<Option<T>> {
    let Some(raw) = params.take(name) else {
        return Ok(None);
    };
    values
        .iter()
        .find(|(text, _)| *text == raw)
        .map(|(_, value)| Some(*value))
        .ok_or_else(|| {
            let names: Vec<&str> = values.iter().map(|(text, _)| *text).collect();
            AppError::bad_request(name, format!("{name} is one of {}", names.join(", ")))
        })
}

impl Variant {
    /// The variant the query string asks for, of an image of `media_type`; `None`
    /// for the original. Every parameter must be one the grid has.
    pub fn parse(query: &str, media_type: &str) -> AppResult<Option<Self>> {
        let mut params = Params::parse(query)?;
        let sizes: Vec<(String, u32)> =
            SIZES.iter().map(|size| (size.to_string(), *size)).collect();
        let sizes: Vec<(&str, u32)> = sizes
            .iter()
            .map(|(text, size)| (text.as_str(), *size))
            .collect();
        let presets: Vec<(&str, Preset)> = PRESETS.iter().map(|p| (p.name, *p)).collect();
        let fits = [
            ("cover", Fit::Cover),
            ("contain", Fit::Contain),
            ("inside", Fit::Inside),
        ];
        let formats = [
            ("webp", Format::Webp),
            ("jpeg", Format::Jpeg),
            ("png", Format::Png),
        ];
        let qualities: Vec<(String, u8)> = QUALITIES.iter().map(|q| (q.to_string(), *q)).collect();
        let qualities: Vec<(&str, u8)> = qualities.iter().map(|(t, q)| (t.as_str(), *q)).collect();
        let preset = choice(&mut params, "preset", &presets)?;
        let w = choice(&mut params, "w", &sizes)?;
        let h = choice(&mut params, "h", &sizes)?;
        let fit = choice(&mut params, "fit", &fits)?;
        let format = choice(&mut params, "format", &formats)?;
        let q = choice(&mut params, "q", &qualities)?;
        let focus = params.take("focus");
        params.finish()?;
        if preset.is_some() && (w.is_some() || h.is_some() || fit.is_some()) {
            return Err(AppError::bad_request(
                "preset",
                "preset is given instead of w, h and fit",
            ));
        }
        if preset.is_none()
            && w.is_none()
            && h.is_none()
            && fit.is_none()
            && format.is_none()
            && q.is_none()
            && focus.is_none()
        {
            return Ok(None);
        }
        if !media_type.starts_with("image/") {
            return Err(AppError::bad_request("w", "only images have variants"));
        }
        let variant = match preset {
            Some(preset) => Self {
                w: Some(preset.w),
                h: preset.h,
                fit: preset.fit,
                format: format.unwrap_or(Format::of(media_type)),
                q: q.unwrap_or(80),
                focus,
            },
            None => Self {
                w,
                h,
                fit: fit.unwrap_or(if w.is_some() && h.is_some() {
                    Fit::Cover
                } else {
                    Fit::Inside
                }),
                format: format.unwrap_or(Format::of(media_type)),
                q: q.unwrap_or(80),
                focus,
            },
        };
        Ok(Some(variant))
    }

    /// Its name among the original's variants, which is also its file's name.
    pub fn key(&self) -> String {
        let fit = self.fit.name();
        let focus = self
            .focus
            .as_deref()
            .map_or(String::new(), |focus| format!("-f{focus}"));
        format!(
            "w{}-h{}-{fit}{focus}-q{}.{}",
            self.w.unwrap_or(0),
            self.h.unwrap_or(0),
            self.q,
            self.format.extension()
        )
    }

    /// The query that names this variant, with `focus` the one it must have.
    pub fn query(&self, focus: Option<&str>) -> String {
        let fit = self.fit.name();
        let mut query: Vec<String> = Vec::new();
        query.extend(self.w.map(|w| format!("w={w}")));
        query.extend(self.h.map(|h| format!("h={h}")));
        query.push(format!("fit={fit}"));
        query.push(format!(
            "format={}",
            self.format.extension().replace("jpg", "jpeg")
        ));
        query.push(format!("q={}", self.q));
        query.extend(focus.map(|focus| format!("focus={focus}")));
        query.join("&")
    }

    /// The file name a variant of `filename` is saved under.
    pub fn filename(&self, filename: &str) -> String {
        let stem = filename.rsplit_once('.').map_or(filename, |(stem, _)| stem);
        format!("{stem}.{}", self.format.extension())
    }
}

#[cfg(test)]
mod tests {
    use super::{Fit, Format, Variant};

    #[test]
    fn variants_come_from_the_grid() {
        let card = Variant::parse("preset=card&format=webp", "image/png");
        let card = card.ok().flatten();
        assert_eq!(
            card.map(|v| (v.w, v.h, v.fit, v.format)),
            Some((Some(640), Some(400), Fit::Cover, Format::Webp))
        );
        assert!(Variant::parse("w=641", "image/png").is_err());
        assert!(Variant::parse("w=640&fit=stretch", "image/png").is_err());
        assert!(Variant::parse("w=640", "application/pdf").is_err());
        assert!(Variant::parse("", "image/png").is_ok_and(|v| v.is_none()));
        let inside = Variant::parse("w=320", "image/jpeg").ok().flatten();
        assert_eq!(
            inside.map(|v| v.key()),
            Some("w320-h0-inside-q80.jpg".to_owned())
        );
    }
}
