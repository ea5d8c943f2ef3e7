import Testing
@testable import PruneFormats
@testable import PruneKit

@Test func versionIsSemantic() {
    #expect(PruneVersion.string.split(separator: ".").count == 3)
}
