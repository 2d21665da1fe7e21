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
        let rendered = try BootMenu().render(template: template)
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
            linux /boot/vmlinuz ${emts_kargs}
            initrd /boot/initramfs.img
        }

        menuentry "EMT-S shell, no install" --id shell {
            linux /boot/vmlinuz ${emts_kargs} emts.install=0
            initrd /boot/initramfs.img
        }

        """
        #expect(rendered == expected)
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
