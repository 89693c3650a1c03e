import XCTest
import VigilYAML

final class YAMLTests: XCTestCase {
    func testMapsKeepOrderAndScalarsKeepStyle() throws {
        let docs = try YAMLReader.documents("""
        b: 1
        a: '1'
        c: [x, "y"]
        d: ~
        e:
          - k: v
        """)
        XCTAssertEqual(docs.count, 1)
        guard case .mapping(let pairs, _) = docs[0] else { return XCTFail("not a map") }
        XCTAssertEqual(pairs.map(\.key), ["b", "a", "c", "d", "e"])
        guard case .scalar(let b)? = docs[0]["b"], case .scalar(let a)? = docs[0]["a"] else { return XCTFail() }
        XCTAssertEqual(b.integer, 1)
        XCTAssertEqual(a.style, .singleQuoted)
        XCTAssertNil(a.integer, "a quoted number stays text")
        guard case .scalar(let d)? = docs[0]["d"] else { return XCTFail() }
        XCTAssertTrue(d.isNull)
        guard case .sequence(let c, _)? = docs[0]["c"] else { return XCTFail() }
        XCTAssertEqual(c.compactMap(\.scalarText), ["x", "y"])
        XCTAssertEqual(docs[0]["e"].flatMap { if case .sequence(let xs, _) = $0 { return xs.first?["k"]?.scalarText }; return nil }, "v")
    }

    func testMultipleDocumentsAndAliases() throws {
        let docs = try YAMLReader.documents("a: &x hello\nb: *x\n---\nc: 2\n")
        XCTAssertEqual(docs.count, 2)
        XCTAssertEqual(docs[0]["b"]?.scalarText, "hello")
        XCTAssertEqual(docs[1]["c"]?.scalarText, "2")
    }

    func testSyntaxErrorHasLineAndColumn() {
        XCTAssertThrowsError(try YAMLReader.documents("a: 1\nb: [1, 2\nc: 3\n")) { e in
            guard let y = e as? YAMLError else { return XCTFail("\(e)") }
            XCTAssertEqual(y.code, "yaml.syntax")
            XCTAssertNotNil(y.mark)
            XCTAssertGreaterThanOrEqual(y.mark?.line ?? 0, 2)
        }
    }

    func testDuplicateAndComplexKeysAreRefused() {
        XCTAssertThrowsError(try YAMLReader.documents("a: 1\na: 2\n")) { XCTAssertEqual(($0 as? YAMLError)?.code, "yaml.duplicate_key") }
        XCTAssertThrowsError(try YAMLReader.documents("? [a, b]\n: 1\n")) { XCTAssertEqual(($0 as? YAMLError)?.code, "yaml.complex_key") }
    }
}
