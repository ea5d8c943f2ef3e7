/// When Metaspace puts its replacement character in front of a piece.
enum PrependScheme: String, Sendable {
    case always, first, never
}
