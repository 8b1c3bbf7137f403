/// The TLV userdata nft stores with rules and elements; type 0 is the comment in both.
enum Userdata {
    /// nft caps comments at 128 bytes including the terminator and cannot quote `"` in them;
    /// kernel, renderer and audit all use this form so they agree.
    static func storedComment(_ text: String) -> String {
        var result = ""
        for character in text.map({ $0 == "\"" ? "'" : $0 }) {
            if result.utf8.count + String(character).utf8.count > 127 { break }
            result.append(character)
        }
        return result
    }

    static func comment(_ text: String) -> [UInt8]? {
        let bytes = Array(storedComment(text).utf8) + [0]
        return [0, UInt8(bytes.count)] + bytes
    }

    static func comment(in userdata: [UInt8]) -> String? {
        var offset = 0
        while offset + 2 <= userdata.count {
            let type = userdata[offset], length = Int(userdata[offset + 1])
            let start = offset + 2
            guard start + length <= userdata.count else { return nil }
            if type == 0 {
                return String(decoding: userdata[start..<start + length].prefix { $0 != 0 }, as: UTF8.self)
            }
            offset = start + length
        }
        return nil
    }
}
