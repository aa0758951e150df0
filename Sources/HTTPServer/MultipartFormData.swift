import Foundation
import TurboServeDomain

/// A parsed `multipart/form-data` body (RFC 7578): named parts, with a filename and content type for files.
/// Pure and bounded: it never reads past the body it is given, and malformed input is a coded error.
struct MultipartFormData: Sendable {
    struct Part: Sendable {
        let name: String
        let filename: String?
        let contentType: String?
        let data: [UInt8]
    }

    let parts: [Part]

    /// The boundary parameter of a `multipart/form-data` content type, or nil if it is not one.
    static func boundary(fromContentType contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            var value = String(piece.dropFirst("boundary=".count))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }

    init(body: [UInt8], boundary: String) throws(TurboServeError) {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [Part] = []
        guard var cursor = Self.find(delimiter, in: body, from: 0) else {
            throw TurboServeError(.malformedRequest, "the multipart body has no part with the declared boundary")
        }
        while true {
            cursor += delimiter.count
            // "--" after a delimiter closes the body.
            if body.count >= cursor + 2, body[cursor] == UInt8(ascii: "-"), body[cursor + 1] == UInt8(ascii: "-") { break }
            guard let headerEnd = Self.find(Array("\r\n\r\n".utf8), in: body, from: cursor) else {
                throw TurboServeError(.malformedRequest, "a multipart part has no header terminator")
            }
            let headerText = String(decoding: body[cursor..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            guard let next = Self.find(Array("\r\n".utf8) + delimiter, in: body, from: contentStart) else {
                throw TurboServeError(.malformedRequest, "a multipart part is not terminated by the boundary")
            }
            parts.append(try Self.part(headers: headerText, data: Array(body[contentStart..<next])))
            cursor = next + 2
        }
        self.parts = parts
    }

    /// Text fields, by name (files excluded). Later duplicates win.
    var fields: [String: String] {
        parts.filter { $0.filename == nil }.reduce(into: [:]) { $0[$1.name] = String(decoding: $1.data, as: UTF8.self) }
    }

    func part(named name: String) -> Part? { parts.last { $0.name == name } }

    private static func part(headers: String, data: [UInt8]) throws(TurboServeError) -> Part {
        var name: String?
        var filename: String?
        var contentType: String?
        for line in headers.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let key = pair[0].trimmingCharacters(in: .whitespaces).lowercased()
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            if key == "content-type" { contentType = value }
            if key == "content-disposition" {
                for parameter in value.split(separator: ";").dropFirst() {
                    let kv = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard kv.count == 2 else { continue }
                    let unquoted = kv[1].hasPrefix("\"") && kv[1].hasSuffix("\"") && kv[1].count >= 2 ? String(kv[1].dropFirst().dropLast()) : kv[1]
                    if kv[0].lowercased() == "name" { name = unquoted }
                    if kv[0].lowercased() == "filename" { filename = unquoted }
                }
            }
        }
        guard let name else { throw TurboServeError(.malformedRequest, "a multipart part has no name") }
        return Part(name: name, filename: filename, contentType: contentType, data: data)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var i = start
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
