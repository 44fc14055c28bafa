//! A CBOR reader (RFC 8949) for what WebAuthn sends: unsigned and negative integers, byte
//! and text strings, arrays, maps, tags and simple values, of definite length. Not a crate:
//! the decoder of `minicbor` added 11 KiB to the module for the five calls made here (size
//! budget, ARCHITECTURE.md). Indefinite lengths, which CTAP2's canonical encoding never uses,
//! are refused; nesting is bounded. Every read is bounds-checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

type Result<T> = std::result::Result<T, Malformed>;

/// Nesting deeper than this is refused (COSE keys and attestation objects use 2 or 3).
const MAX_DEPTH: u32 = 16;

pub struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Decoder { data, pos: 0 }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(Malformed)?;
        let out = self.data.get(self.pos..end).ok_or(Malformed)?;
        self.pos = end;
        Ok(out)
    }

    /// The next item's major type and argument (RFC 8949 §3).
    fn head(&mut self) -> Result<(u8, u64)> {
        let first = *self.take(1)?.first().ok_or(Malformed)?;
        let (major, info) = (first >> 5, first & 0x1f);
        let arg = match info {
            0..=23 => u64::from(info),
            24..=27 => {
                let len = 1usize << (info - 24);
                self.take(len)?
                    .iter()
                    .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
            }
            _ => return Err(Malformed),
        };
        Ok((major, arg))
    }

    fn length(&mut self, major: u8) -> Result<usize> {
        match self.head()? {
            (m, n) if m == major => usize::try_from(n).map_err(|_| Malformed),
            _ => Err(Malformed),
        }
    }

    /// A map's number of entries.
    pub fn map(&mut self) -> Result<u64> {
        match self.head()? {
            (5, n) => Ok(n),
            _ => Err(Malformed),
        }
    }

    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.length(2)?;
        self.take(n)
    }

    pub fn str(&mut self) -> Result<&'a str> {
        let n = self.length(3)?;
        std::str::from_utf8(self.take(n)?).map_err(|_| Malformed)
    }

    /// An integer that fits an `i64`.
    pub fn i64(&mut self) -> Result<i64> {
        match self.head()? {
            (0, n) => i64::try_from(n).map_err(|_| Malformed),
            (1, n) => i64::try_from(n).map(|n| -1 - n).map_err(|_| Malformed),
            _ => Err(Malformed),
        }
    }

    /// Skips one whole item.
    pub fn skip(&mut self) -> Result<()> {
        self.skip_at(0)
    }

    fn skip_at(&mut self, depth: u32) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        let (major, n) = self.head()?;
        match major {
            0 | 1 | 7 => Ok(()),
            2 | 3 => self
                .take(usize::try_from(n).map_err(|_| Malformed)?)
                .map(|_| ()),
            4 | 5 => {
                let items = if major == 5 {
                    n.checked_mul(2)
                } else {
                    Some(n)
                };
                for _ in 0..items.ok_or(Malformed)? {
                    self.skip_at(depth + 1)?;
                }
                Ok(())
            }
            // A tag: the item it tags.
            _ => self.skip_at(depth + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_8949_appendix_a_examples_read_as_listed() {
        // https://www.rfc-editor.org/rfc/rfc8949#appendix-A
        assert_eq!(Decoder::new(&[0x17]).i64(), Ok(23));
        assert_eq!(Decoder::new(&[0x18, 0x64]).i64(), Ok(100));
        assert_eq!(Decoder::new(&[0x39, 0x03, 0xe7]).i64(), Ok(-1000));
        assert_eq!(
            Decoder::new(&[0x1b, 0, 0, 0, 0xe8, 0xd4, 0xa5, 0x10, 0]).i64(),
            Ok(1_000_000_000_000)
        );
        assert_eq!(
            Decoder::new(&[0x64, 0x49, 0x45, 0x54, 0x46]).str(),
            Ok("IETF")
        );
        assert_eq!(
            Decoder::new(&[0x44, 1, 2, 3, 4]).bytes(),
            Ok(&[1u8, 2, 3, 4][..])
        );
        // {"a": 1, "b": [2, 3]}, then a trailing byte.
        let mut d = Decoder::new(&[0xa2, 0x61, 0x61, 0x01, 0x61, 0x62, 0x82, 0x02, 0x03, 0xff]);
        assert_eq!(d.skip(), Ok(()));
        assert_eq!(d.position(), 9);
    }

    #[test]
    fn truncated_indefinite_or_too_deep_input_is_refused() {
        assert_eq!(Decoder::new(&[0x44, 1, 2]).bytes(), Err(Malformed));
        assert_eq!(Decoder::new(&[0x5f, 0x41, 1, 0xff]).skip(), Err(Malformed));
        assert_eq!(
            Decoder::new(&[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).i64(),
            Err(Malformed)
        );
        assert_eq!(Decoder::new(&[0x81; 40]).skip(), Err(Malformed));
        assert_eq!(
            Decoder::new(&[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).skip(),
            Err(Malformed)
        );
    }
}
