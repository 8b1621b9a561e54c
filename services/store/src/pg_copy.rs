//! Rows in PostgreSQL's binary `COPY` format ("Binary Format" in the `COPY` reference): a
//! signature, a flags word and a header extension length, then each row as its number of
//! fields and each field as its length in bytes (-1 for NULL) and its bytes, then -1. Text is
//! its UTF-8 bytes, `int8` eight bytes big-endian, `bool` one byte.

use crate::usage_records::Fields;

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

pub(crate) struct CopyRows {
    buf: Vec<u8>,
}

impl CopyRows {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(bytes + SIGNATURE.len() + 10);
        buf.extend_from_slice(SIGNATURE);
        buf.extend_from_slice(&0i32.to_be_bytes());
        buf.extend_from_slice(&0i32.to_be_bytes());
        CopyRows { buf }
    }

    /// Starts a row of `fields` fields.
    pub(crate) fn row(&mut self, fields: usize) {
        let fields = i16::try_from(fields).unwrap_or(i16::MAX);
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    fn field(&mut self, bytes: &[u8]) {
        // Texts come from validated, bounded fields; one over 2 GiB could not be sent at all,
        // and a wrong length makes PostgreSQL reject the data rather than store it.
        let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(bytes);
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

impl Fields for CopyRows {
    fn text(&mut self, v: &str) {
        self.field(v.as_bytes());
    }

    fn opt_text(&mut self, v: Option<&str>) {
        match v {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    fn int(&mut self, v: i64) {
        self.field(&v.to_be_bytes());
    }

    fn opt_int(&mut self, v: Option<i64>) {
        match v {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    fn flag(&mut self, v: bool) {
        self.field(&[u8::from(v)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_framed_as_postgresql_reads_them() {
        let mut rows = CopyRows::with_capacity(0);
        rows.row(5);
        rows.text("é");
        rows.opt_text(None);
        rows.int(-2);
        rows.opt_int(Some(258));
        rows.flag(true);
        let data = rows.finish();
        let mut expected = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        expected.extend_from_slice(&[0, 5]);
        expected.extend_from_slice(&[0, 0, 0, 2, 0xc3, 0xa9]);
        expected.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        expected.extend_from_slice(&[0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
        expected.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2]);
        expected.extend_from_slice(&[0, 0, 0, 1, 1]);
        expected.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(data, expected);
    }
}
