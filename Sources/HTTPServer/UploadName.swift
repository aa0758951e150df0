import TurboServeDomain

/// The stored name of an upload sent with an Idempotency-Key: `key-` + 32 hex digits of two independent 64-bit
/// FNV-1a hashes over the tenant, the key, the sorted text fields and the image bytes. Identical retries get the
/// identical name (so the identical spec, and the store replays the first job); any difference in fields or bytes
/// gives another name (so the store answers 409). Not a cryptographic hash: a collision only ever confuses one
/// tenant's own requests under one of its own keys.
enum UploadName {
    static func keyed(tenant: TenantID, key: String, fields: [String: String], image: [UInt8]) -> String {
        var first = FNV(basis: 0xcbf2_9ce4_8422_2325)
        var second = FNV(basis: 0x8422_2325_cbf2_9ce4)
        func add(_ bytes: some Sequence<UInt8>) {
            for byte in bytes { first.add(byte); second.add(byte ^ 0x5A) }
            first.add(0); second.add(0xFF)
        }
        add(tenant.rawValue.utf8)
        add(key.utf8)
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { add(name.utf8); add(value.utf8) }
        add(image)
        return "key-" + first.hex + second.hex
    }

    struct FNV {
        var hash: UInt64
        init(basis: UInt64) { hash = basis }
        mutating func add(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        var hex: String {
            let digits = String(hash, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
    }
}
