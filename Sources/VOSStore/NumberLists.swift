import VOSModel

extension Transaction {
    public func numberLists() throws -> [NumberList] {
        try records(NumberList.self, in: .numberLists)
    }

    public func numberList(named name: String) throws -> NumberList? {
        try record(NumberList.self, in: .numberLists, key: name)
    }

    public func saveNumberList(_ list: NumberList) throws {
        do { try list.validate() } catch { throw StoreError.invalid(error) }
        try putRecord(list, in: .numberLists, key: list.name)
    }
}
