import Foundation
import Hummingbird

/// JSON conventions of the public API: snake_case keys, no escaped slashes, integer timestamps where the model says so.
enum JSONCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()
}
