//! Photos attached to defect reports: recognise JPEG and PNG by content,
//! decode within limits, read the EXIF orientation and GPS position, turn
//! the picture upright, scale it down and encode it anew, so that no
//! metadata of the upload (EXIF, XMP, comments, ICC) is kept.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageEncoder, ImageFormat, ImageReader, Limits};

/// Largest width or height accepted for decoding.
pub const MAX_SIDE_PX: u32 = 12_000;
/// Largest picture accepted (pixels).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Memory the decoder may use.
pub const MAX_ALLOC_BYTES: u64 = 256 * 1024 * 1024;
/// JPEG quality of the output.
pub const JPEG_QUALITY: u8 = 85;

/// A processed photo, free of metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Photo {
    pub bytes: Vec<u8>,
    /// "image/jpeg" or "image/png".
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    /// `(lat, long)` from the EXIF GPS tags of the upload.
    pub gps: Option<(f64, f64)>,
}

/// Why an upload is not taken as a photo.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("the file is not an image")]
    NotAnImage,
    #[error("only JPEG and PNG photos are accepted")]
    UnsupportedType,
    #[error("the image is too large ({width} × {height} pixels)")]
    TooLarge { width: u32, height: u32 },
    #[error("the image cannot be read: {0}")]
    Unreadable(String),
    #[error("the image cannot be written: {0}")]
    Encode(String),
}

impl PhotoError {
    /// Stable message code for the web layer (`validation.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAnImage | Self::UnsupportedType => "photo.type",
            Self::TooLarge { .. } => "photo.too_large",
            Self::Unreadable(_) | Self::Encode(_) => "photo.unreadable",
        }
    }
}

/// The type by the first bytes: JPEG or PNG, other images refused as
/// unsupported, anything else as no image.
fn sniff(bytes: &[u8]) -> Result<ImageFormat, PhotoError> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(ImageFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(ImageFormat::Png);
    }
    let other_image = bytes.starts_with(b"GIF8")
        || (bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP"))
        || bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
        || bytes.starts_with(b"BM")
        || (bytes.get(4..8) == Some(b"ftyp")
            && matches!(
                bytes.get(8..12),
                Some(b"heic" | b"heix" | b"mif1" | b"msf1" | b"avif" | b"hevc")
            ))
        || bytes.starts_with(&[0xFF, 0x0A])
        || bytes.starts_with(b"\0\0\0\x0cJXL ");
    Err(if other_image {
        PhotoError::UnsupportedType
    } else {
        PhotoError::NotAnImage
    })
}

/// Whether a JPEG's segments run up to the end-of-image marker: the
/// decoder fills a cut-off upload with grey instead of failing.
fn jpeg_complete(b: &[u8]) -> bool {
    let mut i = 2;
    while i + 1 < b.len() {
        if b[i] != 0xFF {
            i += 1;
            continue;
        }
        let m = b[i + 1];
        match m {
            0xD9 => return true,
            0xFF => i += 1,
            0x00 | 0x01 | 0xD0..=0xD7 => i += 2,
            _ => {
                let Some(len) = b.get(i + 2..i + 4) else {
                    return false;
                };
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                if len < 2 {
                    return false;
                }
                i += 2 + len;
                if m == 0xDA {
                    // entropy-coded data up to the next marker
                    // (a marker is 0xFF followed by anything but a stuffed
                    // 0x00, a restart marker or fill)
                    while i + 1 < b.len()
                        && (b[i] != 0xFF || matches!(b[i + 1], 0x00 | 0xD0..=0xD7 | 0xFF))
                    {
                        i += 1;
                    }
                }
            }
        }
    }
    false
}

/// Degrees from EXIF's degrees, minutes, seconds.
fn dms(field: &exif::Field) -> Option<f64> {
    let exif::Value::Rational(v) = &field.value else {
        return None;
    };
    let part = |i: usize| {
        v.get(i)
            .filter(|r| r.denom != 0)
            .map(|r| r.to_f64())
            .unwrap_or(0.0)
    };
    if v.is_empty() || v[0].denom == 0 {
        return None;
    }
    Some(part(0) + part(1) / 60.0 + part(2) / 3600.0)
}

fn gps(e: &exif::Exif) -> Option<(f64, f64)> {
    use exif::{In, Tag};
    let coord = |tag, ref_tag, negative: u8| -> Option<f64> {
        let v = dms(e.get_field(tag, In::PRIMARY)?)?;
        let sign = match e.get_field(ref_tag, In::PRIMARY).map(|f| &f.value) {
            Some(exif::Value::Ascii(a)) => {
                let first = a.first().and_then(|s| s.first()).copied();
                if first.map(|c| c.to_ascii_uppercase()) == Some(negative) {
                    -1.0
                } else {
                    1.0
                }
            }
            _ => 1.0,
        };
        Some(sign * v)
    };
    let lat = coord(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let long = coord(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    let ok = lat.is_finite()
        && long.is_finite()
        && lat.abs() <= 90.0
        && long.abs() <= 180.0
        && !(lat == 0.0 && long == 0.0);
    ok.then_some((lat, long))
}

fn orientation(e: &exif::Exif) -> Option<Orientation> {
    let f = e.get_field(exif::Tag::Orientation, exif::In::PRIMARY)?;
    let v = f.value.get_uint(0)?;
    Orientation::from_exif(u8::try_from(v).ok()?)
}

/// Checks, normalises and re-encodes an uploaded photo, its longer edge at
/// most `max_edge` pixels (at least 1). JPEG stays JPEG (quality 85); a PNG
/// with transparency stays PNG, one without becomes JPEG.
pub fn process(bytes: &[u8], max_edge: u32) -> Result<Photo, PhotoError> {
    let format = sniff(bytes)?;
    if format == ImageFormat::Jpeg && !jpeg_complete(bytes) {
        return Err(PhotoError::Unreadable("the JPEG file is cut off".into()));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    limits.max_alloc = Some(MAX_ALLOC_BYTES);
    reader.limits(limits);
    let unreadable = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => PhotoError::TooLarge {
            width: 0,
            height: 0,
        },
        e => PhotoError::Unreadable(e.to_string()),
    };
    let decoder = reader.into_decoder().map_err(unreadable)?;
    let (w, h) = image::ImageDecoder::dimensions(&decoder);
    if w == 0 || h == 0 {
        return Err(PhotoError::Unreadable("empty image".into()));
    }
    if w > MAX_SIDE_PX || h > MAX_SIDE_PX || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(PhotoError::TooLarge {
            width: w,
            height: h,
        });
    }
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match unreadable(e) {
        PhotoError::TooLarge { .. } => PhotoError::TooLarge {
            width: w,
            height: h,
        },
        other => other,
    })?;

    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .ok();
    let gps = exif.as_ref().and_then(gps);
    if let Some(o) = exif.as_ref().and_then(orientation) {
        img.apply_orientation(o);
    }

    let max_edge = max_edge.max(1);
    let (w, h) = (img.width(), img.height());
    if w.max(h) > max_edge {
        let scale = f64::from(max_edge) / f64::from(w.max(h));
        let nw = ((f64::from(w) * scale).round() as u32).clamp(1, max_edge);
        let nh = ((f64::from(h) * scale).round() as u32).clamp(1, max_edge);
        img = img.resize_exact(nw, nh, FilterType::Lanczos3);
    }

    let keep_png = format == ImageFormat::Png && img.color().has_alpha();
    let (width, height) = (img.width(), img.height());
    let mut out = Vec::new();
    let encoded = if keep_png {
        let rgba = img.to_rgba8();
        PngEncoder::new(&mut out).write_image(&rgba, width, height, image::ExtendedColorType::Rgba8)
    } else {
        let rgb = img.to_rgb8();
        JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).write_image(
            &rgb,
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
    };
    encoded.map_err(|e| PhotoError::Encode(e.to_string()))?;
    Ok(Photo {
        bytes: out,
        mime: if keep_png { "image/png" } else { "image/jpeg" },
        width,
        height,
        gps,
    })
}

/// A small JPEG photo (320 × 240) as a phone writes it: an EXIF block with
/// the camera's make and the GPS position `lat`, `long`, and a comment.
/// For tests and demonstrations that [`process`] removes all of it.
pub fn sample_jpeg_with_gps(lat: f64, long: f64) -> Vec<u8> {
    use exif::{Field, In, Rational, Tag, Value};
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut jpeg = Vec::new();
    if JpegEncoder::new_with_quality(&mut jpeg, 90)
        .write_image(&img, 320, 240, image::ExtendedColorType::Rgb8)
        .is_err()
    {
        return jpeg;
    }
    let dms = |v: f64| {
        let v = v.abs();
        let d = v.trunc();
        let m = ((v - d) * 60.0).trunc();
        let s = ((v - d) * 60.0 - m) * 60.0;
        Value::Rational(vec![
            Rational {
                num: d as u32,
                denom: 1,
            },
            Rational {
                num: m as u32,
                denom: 1,
            },
            Rational {
                num: (s * 10_000.0).round() as u32,
                denom: 10_000,
            },
        ])
    };
    let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let fields = [
        Field {
            tag: Tag::Make,
            ifd_num: In::PRIMARY,
            value: ascii("Kamera AG"),
        },
        Field {
            tag: Tag::GPSLatitudeRef,
            ifd_num: In::PRIMARY,
            value: ascii(if lat < 0.0 { "S" } else { "N" }),
        },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: dms(lat),
        },
        Field {
            tag: Tag::GPSLongitudeRef,
            ifd_num: In::PRIMARY,
            value: ascii(if long < 0.0 { "W" } else { "E" }),
        },
        Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: dms(long),
        },
    ];
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    if w.write(&mut tiff, false).is_err() {
        return jpeg;
    }
    let mut seg = b"Exif\0\0".to_vec();
    seg.extend_from_slice(&tiff.into_inner());
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(
        &u16::try_from(seg.len() + 2)
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(&seg);
    let comment = b"IMG_0001 Musterstadt";
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(
        &u16::try_from(comment.len() + 2)
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(comment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use exif::{Field, In, Rational, Tag, Value};
    use image::{Rgb, RgbImage, Rgba, RgbaImage};
    use proptest::prelude::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90)
            .write_image(&img, w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    fn png(w: u32, h: u32, alpha: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if alpha {
            let img = RgbaImage::from_fn(w, h, |x, _| Rgba([200, 10, 10, (x % 256) as u8]));
            PngEncoder::new(&mut out)
                .write_image(&img, w, h, image::ExtendedColorType::Rgba8)
                .unwrap();
        } else {
            let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 0]));
            PngEncoder::new(&mut out)
                .write_image(&img, w, h, image::ExtendedColorType::Rgb8)
                .unwrap();
        }
        out
    }

    fn r(num: u32, denom: u32) -> Rational {
        Rational { num, denom }
    }

    /// The JPEG with an APP1 EXIF segment after SOI: Make, Orientation and
    /// a GPS position of 50.2010 N, 9.1850 E (or S/W when `south_west`).
    fn with_exif(jpeg: &[u8], orientation: Option<u16>, south_west: bool) -> Vec<u8> {
        let make = Field {
            tag: Tag::Make,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"Kamera AG".to_vec()]),
        };
        let orient = orientation.map(|o| Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![o]),
        });
        let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
        // 50° 12' 3.6" = 50.2010, 9° 11' 6" = 9.1850
        let fields = [
            Field {
                tag: Tag::GPSLatitudeRef,
                ifd_num: In::PRIMARY,
                value: ascii(if south_west { "S" } else { "N" }),
            },
            Field {
                tag: Tag::GPSLatitude,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![r(50, 1), r(12, 1), r(36, 10)]),
            },
            Field {
                tag: Tag::GPSLongitudeRef,
                ifd_num: In::PRIMARY,
                value: ascii(if south_west { "W" } else { "E" }),
            },
            Field {
                tag: Tag::GPSLongitude,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![r(9, 1), r(11, 1), r(6, 1)]),
            },
        ];
        let mut w = exif::experimental::Writer::new();
        w.push_field(&make);
        if let Some(o) = &orient {
            w.push_field(o);
        }
        for f in &fields {
            w.push_field(f);
        }
        let mut tiff = Cursor::new(Vec::new());
        w.write(&mut tiff, false).unwrap();
        let tiff = tiff.into_inner();
        let mut seg = b"Exif\0\0".to_vec();
        seg.extend_from_slice(&tiff);
        let len = u16::try_from(seg.len() + 2).unwrap();
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&seg);
        // a comment segment too, which must not survive either
        let comment = b"secret comment";
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&u16::try_from(comment.len() + 2).unwrap().to_be_bytes());
        out.extend_from_slice(comment);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    /// Markers of the JPEG's segments up to the scan.
    fn markers(jpeg: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 2;
        while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
            let m = jpeg[i + 1];
            out.push(m);
            if m == 0xDA {
                break;
            }
            let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
            i += 2 + len;
        }
        out
    }

    #[test]
    fn strips_metadata_and_reads_gps() {
        let input = with_exif(&jpeg(64, 48), None, false);
        assert!(contains(&input, b"Exif") && contains(&input, b"Kamera AG"));
        // the test input itself is readable EXIF
        let e = exif::Reader::new()
            .read_from_container(&mut Cursor::new(&input))
            .unwrap();
        assert!(e.get_field(Tag::Make, In::PRIMARY).is_some());

        let p = process(&input, 2000).unwrap();
        assert_eq!(p.mime, "image/jpeg");
        assert_eq!((p.width, p.height), (64, 48));
        let (lat, long) = p.gps.unwrap();
        assert!(
            (lat - 50.2010).abs() < 1e-9 && (long - 9.1850).abs() < 1e-9,
            "{lat} {long}"
        );
        assert!(p.bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert!(!contains(&p.bytes, b"Exif"));
        assert!(!contains(&p.bytes, b"Kamera AG"));
        assert!(!contains(&p.bytes, b"secret comment"));
        let m = markers(&p.bytes);
        assert!(!m.contains(&0xE1) && !m.contains(&0xFE), "{m:x?}");
        assert!(m.contains(&0xDA));
        assert!(
            exif::Reader::new()
                .read_from_container(&mut Cursor::new(&p.bytes))
                .is_err()
        );
        let again = image::load_from_memory(&p.bytes).unwrap();
        assert_eq!((again.width(), again.height()), (64, 48));

        let sw = process(&with_exif(&jpeg(16, 16), None, true), 100).unwrap();
        let (lat, long) = sw.gps.unwrap();
        assert!((lat + 50.2010).abs() < 1e-9 && (long + 9.1850).abs() < 1e-9);
        assert_eq!(process(&jpeg(16, 16), 100).unwrap().gps, None);
    }

    #[test]
    fn applies_the_orientation() {
        let p = process(&with_exif(&jpeg(60, 20), Some(6), false), 1000).unwrap();
        assert_eq!((p.width, p.height), (20, 60));
        let p = process(&with_exif(&jpeg(60, 20), Some(3), false), 1000).unwrap();
        assert_eq!((p.width, p.height), (60, 20));
        let p = process(&with_exif(&jpeg(60, 20), Some(8), false), 1000).unwrap();
        assert_eq!((p.width, p.height), (20, 60));
        // nonsense orientation is ignored
        let p = process(&with_exif(&jpeg(60, 20), Some(42), false), 1000).unwrap();
        assert_eq!((p.width, p.height), (60, 20));
    }

    #[test]
    fn scales_down_keeping_the_aspect() {
        let p = process(&jpeg(400, 300), 100).unwrap();
        assert_eq!((p.width, p.height), (100, 75));
        let p = process(&with_exif(&jpeg(400, 100), Some(6), false), 200).unwrap();
        assert_eq!((p.width, p.height), (50, 200));
        let p = process(&jpeg(3, 2000), 100).unwrap();
        assert_eq!((p.width, p.height), (1, 100));
        let p = process(&jpeg(30, 20), 100).unwrap();
        assert_eq!((p.width, p.height), (30, 20), "small images stay");
        let p = process(&jpeg(30, 20), 0).unwrap();
        assert_eq!((p.width, p.height), (1, 1));
    }

    #[test]
    fn png_keeps_transparency_only() {
        let p = process(&png(50, 40, true), 20).unwrap();
        assert_eq!((p.mime, p.width, p.height), ("image/png", 20, 16));
        assert!(p.bytes.starts_with(b"\x89PNG"));
        assert!(
            image::load_from_memory(&p.bytes)
                .unwrap()
                .color()
                .has_alpha()
        );
        let p = process(&png(50, 40, false), 100).unwrap();
        assert_eq!((p.mime, p.width, p.height), ("image/jpeg", 50, 40));
    }

    #[test]
    fn refuses_other_files() {
        let err = |b: &[u8]| process(b, 100).unwrap_err();
        assert_eq!(err(b"%PDF-1.7\n1 0 obj"), PhotoError::NotAnImage);
        assert_eq!(err(b""), PhotoError::NotAnImage);
        assert_eq!(err(b"hello world, not a picture"), PhotoError::NotAnImage);
        assert_eq!(err(b"GIF89a\x01\0\x01\0"), PhotoError::UnsupportedType);
        assert_eq!(err(b"RIFF\0\0\0\0WEBPVP8 "), PhotoError::UnsupportedType);
        assert_eq!(
            err(b"\0\0\0\x18ftypheic\0\0\0\0"),
            PhotoError::UnsupportedType
        );
        assert_eq!(err(b"GIF89a").code(), "photo.type");
        let j = jpeg(64, 64);
        for cut in [j.len() - 1, j.len() - 2, j.len() - 10, j.len() / 2, 20, 3] {
            assert!(matches!(err(&j[..cut]), PhotoError::Unreadable(_)), "{cut}");
        }
        assert_eq!(err(&j[..j.len() - 2]).code(), "photo.unreadable");
        // data after the end of the image (e.g. a second, MPF picture) is fine
        let mut trailer = j.clone();
        trailer.extend_from_slice(b"\0\0SEFT trailer");
        assert!(process(&trailer, 100).is_ok());
        // a PNG cut off in its pixel data (a missing IEND alone is harmless)
        let p = png(64, 64, false);
        for cut in [p.len() / 2, 30, 8] {
            assert!(matches!(err(&p[..cut]), PhotoError::Unreadable(_)), "{cut}");
        }
    }

    /// A JPEG header claiming 20 000 × 20 000 pixels.
    #[test]
    fn refuses_huge_dimensions() {
        let mut j = jpeg(8, 8);
        // patch the SOF0 frame size
        let sof = j.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        j[sof + 5..sof + 7].copy_from_slice(&20_000u16.to_be_bytes());
        j[sof + 7..sof + 9].copy_from_slice(&20_000u16.to_be_bytes());
        let e = process(&j, 100).unwrap_err();
        assert!(matches!(e, PhotoError::TooLarge { .. }), "{e:?}");
        assert_eq!(e.code(), "photo.too_large");
        // 8 000 × 6 000 = 48 megapixels, each side within the limit
        j[sof + 5..sof + 7].copy_from_slice(&6_000u16.to_be_bytes());
        j[sof + 7..sof + 9].copy_from_slice(&8_000u16.to_be_bytes());
        assert_eq!(
            process(&j, 100).unwrap_err(),
            PhotoError::TooLarge {
                width: 8_000,
                height: 6_000
            }
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn garbage_after_the_magic_never_panics(tail in prop::collection::vec(any::<u8>(), 0..2048)) {
            let mut b = vec![0xFF, 0xD8, 0xFF];
            b.extend_from_slice(&tail);
            let _ = process(&b, 100);
            let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
            p.extend_from_slice(&tail);
            let _ = process(&p, 100);
        }

        #[test]
        fn truncated_jpegs_are_refused(cut in 0usize..100_000) {
            let j = with_exif(&jpeg(40, 30), Some(6), false);
            let cut = cut % j.len();
            prop_assert!(process(&j[..cut], 100).is_err());
        }
    }
}
