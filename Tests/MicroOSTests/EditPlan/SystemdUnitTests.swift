import MicroOS
import Testing

@Suite struct SystemdUnitTests {
    private func parse(_ text: String) throws -> UnitInstallSection? {
        try UnitInstallSection.parse(text, unit: "test.service")
    }

    @Test func readsTheListsOfTheInstallSection() throws {
        let section = try parse("""
            [Unit]
            WantedBy=not-this.target
            [Install]
            WantedBy=multi-user.target graphical.target
            RequiredBy=provisioning.target
            Alias=web.service
            Also=caddy.socket
            DefaultInstance=tty1
            X-Unknown=ignored
            """)
        #expect(section == UnitInstallSection(wantedBy: ["multi-user.target", "graphical.target"],
                                              requiredBy: ["provisioning.target"], alias: ["web.service"],
                                              also: ["caddy.socket"], defaultInstance: "tty1"))
    }

    @Test func repeatedKeysAccumulateAndEmptyAssignmentResets() throws {
        let section = try parse("""
            [Install]
            WantedBy=a.target
            WantedBy=b.target\tc.target
            Alias=x.service
            Alias=
            Alias=y.service
            RequiredBy=r.target
            RequiredBy=
            """)
        #expect(section?.wantedBy == ["a.target", "b.target", "c.target"])
        #expect(section?.alias == ["y.service"])
        #expect(section?.requiredBy == [])
    }

    @Test func commentsContinuationsAndWhitespace() throws {
        let section = try parse("""
            \u{FEFF}# leading comment
            [Install]
            ; another comment
              WantedBy = a.target \\
            # a comment inside the continuation is skipped
                b.target \\
                c.target
            Also=x.service\\\\
            """)
        #expect(section?.wantedBy == ["a.target", "b.target", "c.target"])
        // An escaped backslash does not continue the line.
        #expect(section?.also == ["x.service\\\\"])
    }

    @Test func crlfLineEnds() throws {
        let section = try parse("[Install]\r\nWantedBy=a.target\r\n")
        #expect(section?.wantedBy == ["a.target"])
    }

    @Test func sectionNamesAreCaseSensitive() throws {
        #expect(try parse("[install]\nWantedBy=a.target\n") == nil)
        #expect(try parse("[Install]\nwantedby=a.target\n") == UnitInstallSection())
        #expect(try parse("[Unit]\nDescription=x\n") == nil)
    }

    @Test func repeatedSectionsMerge() throws {
        let section = try parse("[Install]\nWantedBy=a.target\n[Service]\nType=simple\n[Install]\nWantedBy=b.target\n")
        #expect(section?.wantedBy == ["a.target", "b.target"])
    }

    @Test func malformedFilesAreErrorsWithTheLine() {
        #expect(throws: EditPlanError.unitSyntax(unit: "test.service", line: 2, message: "invalid section header [Install")) {
            try parse("# x\n[Install\nWantedBy=a.target\n")
        }
        #expect(throws: EditPlanError.unitSyntax(unit: "test.service", line: 2, message: "missing '=' in WantedBy a.target")) {
            try parse("[Install]\nWantedBy a.target\n")
        }
    }

    @Test func unitNames() throws {
        #expect(try UnitName(normalizing: "caddy").rawValue == "caddy.service")
        #expect(try UnitName(normalizing: " caddy.service ").rawValue == "caddy.service")
        #expect(try UnitName(normalizing: "fstrim.timer").rawValue == "fstrim.timer")
        #expect(try UnitName(normalizing: "foo.bar").rawValue == "foo.bar.service")
        let template = try UnitName(validating: "getty@.service")
        #expect(template.isTemplate)
        #expect(try template.instantiated("tty1").rawValue == "getty@tty1.service")
        let instance = try UnitName(validating: "getty@tty1.service")
        #expect(instance.instance == "tty1")
        #expect(instance.prefix == "getty")
        #expect(instance.stem == "getty@tty1")
        #expect(instance.template == template)
        #expect(try UnitName(validating: "caddy.service").instance == nil)
    }

    @Test(arguments: ["", "caddy", "a/b.service", "@.service", "a@b@c.service", ".service", "sp ace.service"])
    func invalidUnitNames(name: String) {
        #expect(throws: EditPlanError.self) { try UnitName(validating: name) }
    }
}
