import InstallMedium
import Testing

@Suite struct KargsEditorTests {
    let base = "root=tmpfs rootflags=mode=0755 rd.skipfsck noresume modules-load=nbd console=tty0 console=ttyS0,115200n8"

    @Test func changesApplyInOrder() throws {
        let line = try KargsEditor.apply([.append("quiet loglevel=3"), .delete("console"), .append("console=ttyS1,9600"),
                                          .replace("loglevel=3=7")], to: base, path: "x.iso")
        #expect(line == "root=tmpfs rootflags=mode=0755 rd.skipfsck noresume modules-load=nbd quiet loglevel=7 console=ttyS1,9600")
    }

    @Test func deleteTakesAWholeArgumentOrEveryValueOfAKey() throws {
        #expect(try KargsEditor.apply([.delete("console=tty0")], to: base, path: "x.iso").contains("console=ttyS0,115200n8"))
        #expect(try !KargsEditor.apply([.delete("console")], to: base, path: "x.iso").contains("console="))
    }

    @Test(arguments: [
        KargsEditor.Change.delete("root"), .delete("rd.skipfsck"), .append("root=/dev/sda2"), .append("resume=/dev/sda3"),
        .replace("rootflags=mode=0755=mode=0700"), .delete("absent"), .replace("console=tty9=tty1"), .replace("bad"),
        .append("emts.install=0"), .append("emts.medium=abc"), .append("x=\"quoted\""),
    ])
    func breakingOrUnmatchedChangesAreRefusedByName(change: KargsEditor.Change) {
        let error = #expect(throws: MediumError.self) { try KargsEditor.apply([change], to: base, path: "/x/a.iso") }
        #expect("\(error.map { "\($0)" } ?? "")".hasPrefix("/x/a.iso: "))
    }
}
