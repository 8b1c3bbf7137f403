/// One line of the CSV files vosctl imports (rate tables, vendor CDR exports): comma-separated
/// fields, each trimmed; `"..."` quotes a field (`""` is a quote inside it). Owns the splitting
/// only; each file's reader gives the fields their meaning.
public enum CSVLine {
    public static func fields(_ line: Substring) throws(ModelError) -> [String] {
        var fields: [String] = []
        var current = ""
        var inQuotes = false
        var iterator = line.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else { inQuotes = false; pending = next }
                    } else { inQuotes = false }
                } else {
                    current.append(character)
                }
            } else if character == "\"" && current.trimmingSpaces.isEmpty {
                current = ""
                inQuotes = true
            } else if character == "," {
                fields.append(current.trimmingSpaces)
                current = ""
            } else {
                current.append(character)
            }
        }
        guard !inQuotes else { throw ModelError.inconsistent("unterminated quoted field") }
        fields.append(current.trimmingSpaces)
        return fields
    }
}
