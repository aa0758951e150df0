import TurboServeDomain

/// Finds the request field behind the two kinds of bad JSON a parser can only call "corrupted": bytes that are
/// not UTF-8, and the non-JSON number tokens `NaN`, `Infinity`, `-Infinity` that some clients (Python's `json`)
/// emit. Pure; one pass over the bytes; a body with neither problem gets nil and goes to the real parser.
///
/// The field is the key of the top-level member whose value holds the problem (a scan that tracks strings and
/// nesting depth, not a parser: it never rejects a body on its own account).
enum JSONBodyDiagnosis {
    static func problem(in bytes: [UInt8]) -> TurboServeError? {
        if let offset = firstInvalidUTF8(bytes) {
            let field = key(enclosing: offset, in: bytes)
            return TurboServeError(.invalidValue, field: field, "\(field ?? "the request body") must be valid UTF-8 text")
        }
        if let offset = firstNonFiniteToken(bytes) {
            let field = key(enclosing: offset, in: bytes)
            return TurboServeError(.invalidValue, field: field, "\(field ?? "a value") must be a finite number; NaN and Infinity are not JSON numbers")
        }
        return nil
    }

    /// The byte offset of the first ill-formed UTF-8 sequence.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(scalar): offset += scalar.count
            case .error: return offset
            case .emptyInput: return nil
            }
        }
    }

    /// The offset of a bare `NaN` / `Infinity` outside any string.
    static func firstNonFiniteToken(_ bytes: [UInt8]) -> Int? {
        var inString = false
        var escaped = false
        for (index, byte) in bytes.enumerated() {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            if byte == UInt8(ascii: "\"") { inString = true; continue }
            if byte == UInt8(ascii: "N") || byte == UInt8(ascii: "I") {
                let rest = bytes[index...]
                if rest.starts(with: "NaN".utf8) || rest.starts(with: "Infinity".utf8) { return index }
            }
        }
        return nil
    }

    /// The top-level key whose member contains `offset`, if the scan finds one (quoted to 64 characters).
    static func key(enclosing offset: Int, in bytes: [UInt8]) -> String? {
        var depth = 0
        var inString = false
        var escaped = false
        var stringStart = 0
        var lastString: ArraySlice<UInt8>?
        var currentKey: ArraySlice<UInt8>?
        for (index, byte) in bytes.enumerated() {
            if index >= offset { break }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    lastString = bytes[stringStart..<index]
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true; stringStart = index + 1
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; lastString = nil
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ":") where depth == 1: currentKey = lastString
            default: break
            }
        }
        return currentKey.map { JobValidator.quote(String(decoding: $0, as: UTF8.self)) }
    }
}
