//! The kinds of file an asset may be, each with its size limit, told from the
//! file's first bytes (`infer`), never from what the client says; and the names
//! files are saved under.
//!
//! SVG is not among them: an SVG is a document that can run script, and served
//! from the API's origin it would run there. It is refused like any other type
//! that is not listed (`docs/decisions.md`).

/// A kind of file the service takes.
#[derive(Debug, Clone, Copy)]
pub struct FileKind {
    pub media_type: &'static str,
    /// The largest file of this kind, in bytes.
    pub limit: u64,
    /// An image: it has a width and a height, and needs alternative text.
    pub image: bool,
    /// Shown in the browser (`Content-Disposition: inline`); the others download.
    pub inline: bool,
}

const MIB: u64 = 1 << 20;

const fn image(media_type: &'static str) -> FileKind {
    FileKind {
        media_type,
        limit: 20 * MIB,
        image: true,
        inline: true,
    }
}

const fn document(media_type: &'static str) -> FileKind {
    FileKind {
        media_type,
        limit: 100 * MIB,
        image: false,
        inline: false,
    }
}

/// Every kind of file an asset may be: the images the site shows, and the
/// documents SEESAC publishes (PDF, and Word, Excel and PowerPoint, old and new,
/// and their OpenDocument counterparts).
pub const ALLOWED: &[FileKind] = &[
    image("image/jpeg"),
    image("image/png"),
    image("image/webp"),
    FileKind {
        inline: true,
        ..document("application/pdf")
    },
    document("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    document("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    document("application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    document("application/msword"),
    document("application/vnd.ms-excel"),
    document("application/vnd.ms-powerpoint"),
    document("application/vnd.oasis.opendocument.text"),
    document("application/vnd.oasis.opendocument.spreadsheet"),
    document("application/vnd.oasis.opendocument.presentation"),
];

/// What a file is, from its first bytes: one of `ALLOWED`, or the message that
/// says why not.
pub fn sniff(head: &[u8]) -> Result<FileKind, String> {
    let found = infer::get(head).map(|kind| kind.mime_type());
    let allowed = |media_type: &str| ALLOWED.iter().find(|kind| kind.media_type == media_type);
    match found.and_then(allowed) {
        Some(kind) => Ok(*kind),
        None => Err(format!(
            "{}; an asset is one of: {}",
            found.map_or_else(
                || "the file's type is not one the service knows".to_owned(),
                |media_type| format!("files of type {media_type} are not taken"),
            ),
            ALLOWED
                .iter()
                .map(|kind| kind.media_type)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A file's name as given: letters, digits, `.`, `_` and `-`, at most 255,
/// not starting with a dot.
pub fn filename(raw: &str) -> Result<String, String> {
    let fits = !raw.is_empty()
        && raw.len() <= 255
        && !raw.starts_with('.')
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if fits {
        Ok(raw.to_owned())
    } else {
        Err("must be 1 to 255 letters, digits, '.', '_' or '-', not starting with '.'".to_owned())
    }
}

/// The name a file that was uploaded as `given` is kept under: its characters
/// outside `filename`'s replaced by `-`; `file` if nothing is left.
pub fn saved_name(given: &str) -> String {
    let base = given.rsplit(['/', '\\']).next().unwrap_or(given);
    let mut name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    while name.starts_with('.') {
        name.remove(0);
    }
    name.truncate(255);
    if name.is_empty() {
        "file".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::{filename, saved_name, sniff};

    #[test]
    fn a_file_is_what_its_bytes_say() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png).map(|kind| kind.media_type), Ok("image/png"));
        assert_eq!(
            sniff(b"%PDF-1.7\n").map(|kind| kind.media_type),
            Ok("application/pdf")
        );
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert!(sniff(svg).is_err());
        let gif = b"GIF89a\x01\0\x01\0";
        assert!(sniff(gif).is_err_and(|message| message.contains("image/gif")));
    }

    #[test]
    fn names_are_kept_safe() {
        assert_eq!(saved_name("../../etc/passwd"), "passwd");
        assert_eq!(
            saved_name("Annual report 2024 (EN).pdf"),
            "Annual-report-2024--EN-.pdf"
        );
        assert_eq!(saved_name(".htaccess"), "htaccess");
        assert_eq!(saved_name("Ćirilica.png"), "-irilica.png");
        assert_eq!(saved_name(""), "file");
        assert!(filename("report.pdf").is_ok());
        assert!(filename("a/b.pdf").is_err());
        assert!(filename(".hidden").is_err());
    }
}
