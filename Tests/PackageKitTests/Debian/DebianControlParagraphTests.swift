@testable import PackageKit
import Testing

@Suite struct DebianControlParagraphTests {
    @Test func splitsParagraphsAndKeepsText() throws {
        let text = """
            Package: one
            Status: install ok installed
            Depends: a,
             b (>= 1)
            # a comment

            Package: two
            Version: 2\r

            """
        let paragraphs = try DebianControlParagraph.parse(text)
        #expect(paragraphs.count == 2)
        #expect(paragraphs[0]["package"] == "one")
        #expect(paragraphs[0]["Depends"] == "a,\nb (>= 1)")
        #expect(paragraphs[0].text == "Package: one\nStatus: install ok installed\nDepends: a,\n b (>= 1)\n")
        #expect(paragraphs[1]["Version"] == "2")
        #expect(paragraphs[1]["Missing"] == nil)
    }

    @Test(arguments: [" continued first", "Package: a\nPackage: b", "no colon here", ": empty name"])
    func rejectsMalformedText(_ text: String) {
        #expect(throws: DebianControlParagraph.SyntaxError.self) { try DebianControlParagraph.parse(text) }
    }

    @Test func parsesRelations() throws {
        let requirements = try DebianRelations.requirements(
            "libc6:amd64 (>= 2.36) [amd64] <!nocheck>, a|b (<< 3~), c (< 1), d (> 2)", kind: .depends)
        #expect(requirements.map(\.description) == ["libc6:amd64 (>= 2.36)", "a | b (<< 3~)", "c (<= 1)", "d (>= 2)"])
        #expect(requirements[1].alternatives.count == 2)
        #expect(try DebianRelations.requirements(" ", kind: .depends).isEmpty)
    }

    @Test(arguments: ["a (>= 1", "a (~ 1)", "(>= 1)", "a | , b", "a (>= )", "a junk", "a:"])
    func rejectsMalformedRelations(_ text: String) {
        #expect(throws: DebianRelations.SyntaxError.self) { try DebianRelations.requirements(text, kind: .depends) }
    }

    @Test func providesCarryOnlyExactVersions() throws {
        #expect(try DebianRelations.provides("x (= 1), y").map(\.description) == ["x (= 1)", "y"])
        #expect(throws: DebianRelations.SyntaxError.self) { try DebianRelations.provides("x (>= 1)") }
    }
}
