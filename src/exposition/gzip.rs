//! Response bodies as one gzip stream made of parts compressed apart: a
//! part kept between scrapes is compressed once, the parts that move with
//! each scrape are sent as stored blocks, and the trailer's CRC-32 combines
//! the parts' own.

use std::sync::{OnceLock, RwLock};

use bytes::Bytes;

use super::Encoding;

/// One encoded part of a response, kept in the encodings clients asked
/// for. Once it is compressed its text is dropped: Prometheus always asks
/// gzip, and a thousand organisations would otherwise each hold their
/// series twice. A client that asks for text after that gets it inflated
/// from the blocks, once, and both are kept from then on.
#[derive(Debug)]
pub struct Encoded {
    /// `None` between the compression and the next request for text.
    plain: RwLock<Option<Bytes>>,
    gzip: OnceLock<Deflated>,
}

/// A part as raw DEFLATE blocks ending on a byte boundary (a sync flush),
/// with the CRC-32 and length of its text: parts compressed apart join into
/// one gzip stream, which every client decodes.
#[derive(Debug)]
pub struct Deflated {
    pub blocks: Bytes,
    pub crc: flate2::Crc,
}

impl Encoded {
    pub fn new(plain: Bytes) -> Encoded {
        Encoded {
            plain: RwLock::new(Some(plain)),
            gzip: OnceLock::new(),
        }
    }

    /// A part written into a growing buffer, kept without the spare room the
    /// growth left: up to half of it, held by every organisation between
    /// scrapes.
    pub fn text(plain: String) -> Encoded {
        Encoded::new(kept(plain.into_bytes()))
    }

    /// The text, inflated again (and kept) if it was dropped.
    pub fn plain(&self) -> Bytes {
        let held = self.plain.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(plain) = held {
            return plain;
        }
        // Waits for a compression still running: the text goes when it starts.
        let deflated = self.deflated();
        let mut plain = self.plain.write().unwrap_or_else(|e| e.into_inner());
        plain.get_or_insert_with(|| inflate(deflated)).clone()
    }

    /// The DEFLATE blocks, compressed at the first request; the text is
    /// then dropped.
    pub fn deflated(&self) -> &Deflated {
        self.gzip.get_or_init(|| {
            let mut plain = self.plain.write().unwrap_or_else(|e| e.into_inner());
            let text = plain
                .take()
                .expect("text is held until the part is compressed");
            deflate(&text, CACHED_LEVEL)
        })
    }

    /// Whether the text is held now (tests).
    pub fn holds_text(&self) -> bool {
        self.plain
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
}

/// The text of a part's blocks: they end on a sync flush, not a final block.
fn inflate(deflated: &Deflated) -> Bytes {
    let len = deflated.crc.amount() as usize;
    let mut out = Vec::with_capacity(len);
    let mut decompress = flate2::Decompress::new(false);
    // From memory into memory the exporter compressed itself: an error is a bug.
    decompress
        .decompress_vec(&deflated.blocks, &mut out, flate2::FlushDecompress::Sync)
        .expect("inflating blocks the exporter compressed");
    assert_eq!(
        out.len(),
        len,
        "a part inflates to the text it was compressed from"
    );
    Bytes::from(out)
}

/// A buffer kept between scrapes, without its spare capacity.
pub fn kept(mut buffer: Vec<u8>) -> Bytes {
    buffer.shrink_to_fit();
    Bytes::from(buffer)
}

/// gzip level of the parts kept between scrapes: the per-group part is
/// compressed once per snapshot and format, so it may take the time a
/// smaller body needs. The parts that move with every scrape are a few
/// hundred bytes to a few KiB; setting up a compressor for them costs more
/// than the bytes it would save, so they are sent as stored blocks.
const CACHED_LEVEL: u32 = 6;

/// `plain` as stored (uncompressed) DEFLATE blocks. Each starts on a byte
/// boundary, as every part ends on one, and so ends on one too.
fn stored(plain: &[u8]) -> Deflated {
    const MAX_STORED: usize = u16::MAX as usize;
    let mut blocks = Vec::with_capacity(plain.len() + 5 * (plain.len() / MAX_STORED + 1));
    for chunk in plain.chunks(MAX_STORED) {
        let len = chunk.len() as u16;
        // BFINAL 0, BTYPE 00 (stored), padded to the byte; LEN and NLEN.
        blocks.push(0);
        blocks.extend_from_slice(&len.to_le_bytes());
        blocks.extend_from_slice(&(!len).to_le_bytes());
        blocks.extend_from_slice(chunk);
    }
    let mut crc = flate2::Crc::new();
    crc.update(plain);
    Deflated {
        blocks: Bytes::from(blocks),
        crc,
    }
}

/// `plain` as DEFLATE blocks that end byte-aligned (a sync flush), so that
/// the next part's blocks can follow them in the same stream.
fn deflate(plain: &[u8], level: u32) -> Deflated {
    let mut compress = flate2::Compress::new(flate2::Compression::new(level), false);
    let mut blocks = Vec::with_capacity(plain.len() / 4 + 64);
    loop {
        let consumed = compress.total_in() as usize;
        // Into memory, from memory: the only error is a bug in the caller.
        compress
            .compress_vec(&plain[consumed..], &mut blocks, flate2::FlushCompress::Sync)
            .expect("compressing into memory");
        // The flush is complete once it left room in the output.
        if compress.total_in() as usize == plain.len() && blocks.len() < blocks.capacity() {
            break;
        }
        blocks.reserve(blocks.capacity().max(4096));
    }
    let mut crc = flate2::Crc::new();
    crc.update(plain);
    Deflated {
        blocks: kept(blocks),
        crc,
    }
}

/// The gzip header (RFC 1952): deflate, no name, no time, unknown OS.
pub(crate) const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// An empty final DEFLATE block (fixed Huffman codes), which ends the stream.
const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// A response body being assembled, part by part, in its encoding. With
/// gzip it is one stream: the header, each part's blocks (the cached ones as
/// they were compressed), and a trailer whose CRC-32 combines the parts'.
#[derive(Debug)]
pub struct Body {
    encoding: Encoding,
    chunks: Vec<Bytes>,
    crc: flate2::Crc,
}

impl Body {
    pub fn new(encoding: Encoding) -> Body {
        let mut chunks = Vec::with_capacity(8);
        if encoding == Encoding::Gzip {
            chunks.push(Bytes::from_static(&GZIP_HEADER));
        }
        Body {
            encoding,
            chunks,
            crc: flate2::Crc::new(),
        }
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// A part made for this scrape.
    pub fn moving(&mut self, plain: String) {
        match self.encoding {
            Encoding::Identity => self.chunks.push(Bytes::from(plain)),
            Encoding::Gzip => {
                let part = stored(plain.as_bytes());
                self.crc.combine(&part.crc);
                self.chunks.push(part.blocks);
            }
        }
    }

    /// A part kept between scrapes, compressed at most once.
    pub fn cached(&mut self, part: &Encoded) {
        match self.encoding {
            Encoding::Identity => self.chunks.push(part.plain()),
            Encoding::Gzip => {
                let deflated = part.deflated();
                self.crc.combine(&deflated.crc);
                self.chunks.push(deflated.blocks.clone());
            }
        }
    }

    pub fn into_chunks(mut self) -> Vec<Bytes> {
        if self.encoding == Encoding::Gzip {
            let mut trailer = Vec::with_capacity(10);
            trailer.extend_from_slice(&FINAL_BLOCK);
            trailer.extend_from_slice(&self.crc.sum().to_le_bytes());
            trailer.extend_from_slice(&self.crc.amount().to_le_bytes());
            self.chunks.push(Bytes::from(trailer));
        }
        self.chunks
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn gunzip(chunks: &[Bytes]) -> String {
        use std::io::Read as _;
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        let mut out = String::new();
        flate2::read::MultiGzDecoder::new(joined.as_slice())
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    /// One gzip stream, not several members: the header once, DEFLATE
    /// data that ends exactly at the trailer, and a trailer holding the
    /// CRC-32 and length of the whole text (what curl checks).
    pub(crate) fn assert_one_stream(chunks: &[Bytes], plain: &[u8]) {
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        assert_eq!(&joined[..10], &GZIP_HEADER);
        let (data, trailer) = joined[10..].split_at(joined.len() - 18);
        let mut inflate = flate2::Decompress::new(false);
        let mut out = Vec::with_capacity(plain.len() + 64);
        let status = inflate
            .decompress_vec(data, &mut out, flate2::FlushDecompress::Finish)
            .unwrap();
        assert_eq!(status, flate2::Status::StreamEnd);
        assert_eq!(
            inflate.total_in() as usize,
            data.len(),
            "nothing after the stream"
        );
        assert_eq!(out, plain);
        let mut crc = flate2::Crc::new();
        crc.update(plain);
        assert_eq!(&trailer[..4], &crc.sum().to_le_bytes());
        assert_eq!(&trailer[4..], &(plain.len() as u32).to_le_bytes());
    }

    #[test]
    fn a_compressed_part_drops_its_text_and_inflates_it_once_asked_again() {
        let text: String = (0..20_000).map(|i| format!("series_{i} {i}\n")).collect();
        let part = Encoded::text(text.clone());
        let first = part.plain();
        assert!(part.holds_text());
        let blocks = part.deflated().blocks.clone();
        assert!(!part.holds_text(), "compressed: the text is dropped");
        let again = part.plain();
        assert_eq!(again, text.as_bytes());
        assert_ne!(
            again.as_ptr(),
            first.as_ptr(),
            "inflated, not the first buffer"
        );
        assert!(part.holds_text(), "inflated once, then kept");
        assert_eq!(part.plain().as_ptr(), again.as_ptr());
        assert_eq!(part.deflated().blocks.as_ptr(), blocks.as_ptr());
    }

    #[test]
    fn stored_parts_of_any_length_make_one_stream() {
        for len in [0, 1, 65_535, 65_536, 200_000] {
            let plain: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let mut body = Body::new(Encoding::Gzip);
            body.moving(plain.clone());
            body.moving("and a second part".into());
            assert_one_stream(
                &body.into_chunks(),
                (plain + "and a second part").as_bytes(),
            );
        }
    }
}
