import VOSModel

extension IPPrefix {
    /// How nft prints the prefix as a set element: a host prefix as its bare address
    /// (`198.51.100.7`), any other as NETWORK/LENGTH (`10.0.0.0/8`).
    public var nftText: String { isHost ? network.description : "\(network)/\(length)" }
}
