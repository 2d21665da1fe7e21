import Foundation
import HybridISO
import Testing

@Suite struct BootMenuTests {
    let template: String = (try? String(contentsOfFile: repositoryRoot + "/iso/" + BootMenu.templateName,
                                        encoding: .utf8)) ?? ""

    @Test func bundledTemplateIsTheRepositorysFile() throws {
        #expect(!template.isEmpty)
        #expect(try BootMenu.shippedTemplate() == template)
    }

    @Test func rendersTheShippedTemplate() throws {
        let rendered = try BootMenu(buildID: "0123abcd").render(template: template)
        let expected = """
        # EMT-S install medium boot menu, rendered from iso/grub.cfg.template by HybridISO.BootMenu.
        # GRUB's early config found this medium and set root; every path below is on it.

        serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
        terminal_input console serial
        terminal_output console serial

        set default=install
        set timeout=5
        set timeout_style=menu

        # The kernel command line lives in a fixed-size padded file so it can be changed in place on a written
        # medium without rebuilding; it sets and exports emts_kargs.
        source /boot/grub/kargs.cfg

        menuentry "Install EMT-S" --id install {
            linux /boot/vmlinuz ${emts_kargs} emts.medium=0123abcd
            initrd /boot/initramfs.img
        }

        menuentry "EMT-S shell, no install" --id shell {
            linux /boot/vmlinuz ${emts_kargs} emts.medium=0123abcd emts.install=0
            initrd /boot/initramfs.img
        }

        """
        #expect(rendered == expected)
    }

    @Test func loaderMenuHasTheSameTwoEntriesOnTheSignedImage() throws {
        let files = try LoaderMenu(commandLine: "root=tmpfs a=b emts.medium=0123abcd").files()
        let text = Dictionary(uniqueKeysWithValues: files.map { file -> (String, String) in
            guard case let .bytes(bytes) = file.source else { return (file.path, "") }
            return (file.path, String(decoding: bytes, as: UTF8.self))
        })
        #expect(text.keys.sorted() == ["loader/entries/emts-install.conf", "loader/entries/emts-shell.conf",
                                       "loader/loader.conf"])
        let loader = text["loader/loader.conf"] ?? ""
        #expect(loader.contains("\ndefault emts-install.conf\n") && loader.contains("\neditor no\n")
                && loader.contains("\ntimeout 5\n"))
        #expect(text["loader/entries/emts-install.conf"] == """
            title Install EMT-S
            efi /EFI/emts/emt-s.efi
            options root=tmpfs a=b emts.medium=0123abcd

            """)
        #expect(text["loader/entries/emts-shell.conf"]?.contains(
            "title EMT-S shell, no install\nefi /EFI/emts/emt-s.efi\noptions root=tmpfs a=b emts.medium=0123abcd emts.install=0\n") == true)
    }

    @Test func unknownPlaceholderIsAnError() {
        #expect(throws: HybridISOError.template("no value for {{nope}}, {{other}}")) {
            try BootMenu.render("a {{nope}} b {{other}} {{known}}", values: ["known": "k"])
        }
    }

    @Test func malformedTemplatesAreErrors() {
        for bad in ["open {{name", "close }} only", "{{Bad-Name}}", "{{}}", "x {{a}} }}"] {
            #expect(throws: HybridISOError.self, "\(bad)") { try BootMenu.render(bad, values: ["a": "1"]) }
        }
    }

    @Test func substitutesEveryOccurrence() throws {
        #expect(try BootMenu.render("{{a}}-{{b}}-{{a}}", values: ["a": "1", "b": "{{a}}"]) == "1-{{a}}-1")
    }
}
