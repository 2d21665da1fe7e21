import MicroOS
import Testing

@Suite struct RootPathTests {
    @Test(arguments: [
        ("./etc/x", "etc/x"), ("etc/x", "etc/x"), ("etc/x/", "etc/x"), ("./etc/x/", "etc/x"),
        (".", ""), ("./", ""), ("usr/./bin", "usr/bin"), ("././usr", "usr"),
    ])
    func normalizesArchiveSpellings(raw: String, normal: String) throws {
        #expect(try RootPath.normalize(raw) == normal)
    }

    @Test(arguments: [
        ("/etc", EditPlanError.PathProblem.absolute), ("/", .absolute), ("etc/../x", .parentComponent),
        ("..", .parentComponent), ("./../etc", .parentComponent), ("etc//x", .emptyComponent),
        ("etc/x//", .emptyComponent), ("", .empty), ("etc/\u{0}x", .nul),
    ])
    func rejectsUnsafePathsNamingThem(raw: String, problem: EditPlanError.PathProblem) {
        let error = #expect(throws: EditPlanError.self) { try RootPath.normalize(raw) }
        #expect(error == .unsafePath(entry: raw, problem: problem))
    }

    @Test func messagesNameTheEntryAndShowControlCharacters() {
        #expect(EditPlanError.unsafePath(entry: "/etc/shadow", problem: .absolute).description
            == "\"/etc/shadow\": unsafe path: absolute path (entries must be relative to the root)")
        #expect(EditPlanError.unsafePath(entry: "a\u{0}b", problem: .nul).description
            == "\"a\\u{0}b\": unsafe path: contains a NUL byte")
    }

    @Test func requestedPathsMayBeAbsolute() throws {
        #expect(try RootPath.normalize(requested: "/bin/install-os") == "bin/install-os")
        #expect(try RootPath.normalize(requested: "//usr/bin/") == "usr/bin")
        #expect(try RootPath.normalize(requested: "etc/x") == "etc/x")
        #expect(throws: EditPlanError.unsafePath(entry: "/", problem: .empty)) { try RootPath.normalize(requested: "/") }
        #expect(throws: EditPlanError.unsafePath(entry: "/.", problem: .empty)) { try RootPath.normalize(requested: "/.") }
        #expect(throws: EditPlanError.unsafePath(entry: "/usr/../etc", problem: .parentComponent)) {
            try RootPath.normalize(requested: "/usr/../etc")
        }
    }

    @Test func hierarchyOrderPutsParentsFirst() {
        let shuffled = ["a-b", "a/b/c", "b", "a", "a/b", "a.b", "a/b-c"]
        #expect(shuffled.sorted(by: RootPath.precedes) == ["a", "a/b", "a/b/c", "a/b-c", "a-b", "a.b", "b"])
    }

    @Test func pieces() {
        #expect(RootPath.ancestors(of: "a/b/c") == ["a", "a/b"])
        #expect(RootPath.ancestors(of: "a").isEmpty)
        #expect(RootPath.parent(of: "a/b/c") == "a/b")
        #expect(RootPath.parent(of: "a") == "")
        #expect(RootPath.name(of: "a/b/c") == "c")
        #expect(RootPath.join("", "a") == "a")
        #expect(RootPath.join("a", "b") == "a/b")
    }
}
