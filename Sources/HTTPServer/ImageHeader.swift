import TurboServeDomain

/// What an upload's own header says it is — format and pixel dimensions — read from the bytes without decoding
/// any pixel, so a decompression bomb (a small PNG declaring 30000×30000) or a truncated file is refused at the
/// door, before it is stored or reaches an engine. Pure and bounded: it walks the container structure (PNG chunks
/// to `IEND`, JPEG segments to `SOS` and the final `EOI`, the RIFF size of WebP) and never reads past the bytes.
///
/// This is the first line of defence only: the engine checks what it decodes too.
public struct ImageHeader: Equatable, Sendable {
    public let format: String
    public let width: Int
    public let height: Int

    /// The longest side accepted, whatever the pixel budget.
    static let maxSide = 16_384

    /// Reads and checks `bytes` as the `input_reference` upload: a complete PNG, JPEG or WebP whose declared
    /// size is at most `maxPixels` pixels and `maxSide` on a side. Errors name `input_reference` and never echo
    /// the upload or a server path.
    public static func inspect(_ bytes: [UInt8], maxPixels: Int) throws(TurboServeError) -> ImageHeader {
        let header: ImageHeader
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            header = try png(bytes)
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            header = try jpeg(bytes)
        } else if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            header = try webp(bytes)
        } else {
            throw TurboServeError(.invalidValue, field: "input_reference", "input_reference must be a PNG, JPEG or WebP image")
        }
        guard header.width > 0, header.height > 0 else { throw corrupt(header.format, "declares an empty image") }
        if header.width > maxSide || header.height > maxSide || header.width * header.height > maxPixels {
            throw TurboServeError(
                .invalidValue, field: "input_reference",
                "input_reference is \(header.width)×\(header.height) pixels; at most \(maxPixels) pixels (limits.max_image_pixels) and \(maxSide) on a side are accepted")
        }
        return header
    }

    static func corrupt(_ format: String, _ detail: String) -> TurboServeError {
        TurboServeError(.invalidValue, field: "input_reference", "input_reference is not a complete \(format) image: it \(detail)")
    }

    // MARK: - Formats

    /// Chunks from the signature to `IEND`; `IHDR` first, at least one `IDAT`.
    static func png(_ bytes: [UInt8]) throws(TurboServeError) -> ImageHeader {
        var offset = 8
        var size: (Int, Int)?
        var sawData = false
        while true {
            guard offset + 12 <= bytes.count else { throw corrupt("PNG", "ends before its IEND chunk (truncated)") }
            let length = bigEndian(bytes, offset, 4)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard length <= bytes.count - offset - 12 else { throw corrupt("PNG", "has a \(type) chunk running past the end (truncated)") }
            if size == nil {
                guard type == "IHDR", length == 13 else { throw corrupt("PNG", "does not start with an IHDR chunk") }
                size = (bigEndian(bytes, offset + 8, 4), bigEndian(bytes, offset + 12, 4))
            }
            if type == "IDAT" { sawData = true }
            if type == "IEND" { break }
            offset += 12 + length
        }
        guard sawData, let (width, height) = size else { throw corrupt("PNG", "has no image data") }
        return ImageHeader(format: "png", width: width, height: height)
    }

    /// Segments from `SOI` to the first frame header (`SOF`n) and `SOS`; the file must end with `EOI`.
    static func jpeg(_ bytes: [UInt8]) throws(TurboServeError) -> ImageHeader {
        var offset = 2
        var size: (Int, Int)?
        while true {
            guard offset + 4 <= bytes.count else { throw corrupt("JPEG", "ends before its image data (truncated)") }
            guard bytes[offset] == 0xFF else { throw corrupt("JPEG", "has a malformed segment") }
            let marker = bytes[offset + 1]
            if marker == 0xFF { offset += 1; continue }
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { offset += 2; continue }
            let length = bigEndian(bytes, offset + 2, 2)
            guard length >= 2, offset + 2 + length <= bytes.count else { throw corrupt("JPEG", "has a segment running past the end (truncated)") }
            let isFrame = (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker)
            if isFrame {
                guard length >= 7 else { throw corrupt("JPEG", "has a short frame header") }
                size = (bigEndian(bytes, offset + 7, 2), bigEndian(bytes, offset + 5, 2))
            }
            if marker == 0xDA { break }
            offset += 2 + length
        }
        guard let (width, height) = size else { throw corrupt("JPEG", "has no frame header") }
        var end = bytes.count
        while end > offset, bytes[end - 1] == 0 { end -= 1 }
        guard end >= 2, bytes[end - 2] == 0xFF, bytes[end - 1] == 0xD9 else { throw corrupt("JPEG", "does not end with its EOI marker (truncated)") }
        return ImageHeader(format: "jpg", width: width, height: height)
    }

    /// The RIFF size must fit the bytes; the size comes from `VP8X`, `VP8L` or `VP8 `.
    static func webp(_ bytes: [UInt8]) throws(TurboServeError) -> ImageHeader {
        let riffSize = littleEndian(bytes, 4, 4)
        guard riffSize + 8 <= bytes.count, bytes.count >= 30 else { throw corrupt("WebP", "is shorter than its RIFF header says (truncated)") }
        let chunk = String(decoding: bytes[12..<16], as: UTF8.self)
        switch chunk {
        case "VP8X":
            return ImageHeader(format: "webp", width: littleEndian(bytes, 24, 3) + 1, height: littleEndian(bytes, 27, 3) + 1)
        case "VP8L":
            guard bytes[20] == 0x2F else { throw corrupt("WebP", "has a malformed lossless header") }
            let bits = littleEndian(bytes, 21, 4)
            return ImageHeader(format: "webp", width: (bits & 0x3FFF) + 1, height: ((bits >> 14) & 0x3FFF) + 1)
        case "VP8 ":
            guard bytes[23] == 0x9D, bytes[24] == 0x01, bytes[25] == 0x2A else { throw corrupt("WebP", "has a malformed lossy header") }
            return ImageHeader(format: "webp", width: littleEndian(bytes, 26, 2) & 0x3FFF, height: littleEndian(bytes, 28, 2) & 0x3FFF)
        default:
            throw corrupt("WebP", "has an unknown first chunk")
        }
    }

    private static func bigEndian(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> Int {
        bytes[offset..<(offset + count)].reduce(0) { $0 << 8 | Int($1) }
    }

    private static func littleEndian(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> Int {
        bytes[offset..<(offset + count)].reversed().reduce(0) { $0 << 8 | Int($1) }
    }
}
