"""Checks the PDF/A-2b properties of a PDF that can be checked without a
full validator such as veraPDF (not packaged for Debian or PyPI).

Checked, with pikepdf (qpdf): the file parses and qpdf's structure check
finds no problem; not encrypted; a trailer /ID; XMP metadata with
pdfaid:part=2 and pdfaid:conformance=B in an unfiltered metadata stream; an
OutputIntent /GTS_PDFA1 with an embedded ICC profile; every font used on a
page (descendants of Type0 fonts included) embedded; no JavaScript or
launch actions. Not checked (that needs veraPDF): colour spaces against the
OutputIntent, transparency, glyph widths, Unicode maps, annotation
appearances, the XMP schema extensions.

Usage: python3 check_pdfa.py FILE.pdf  (exit 0: all checks passed)
"""

import sys

import pikepdf
from pikepdf import Name

EMBEDDED = ("/FontFile", "/FontFile2", "/FontFile3")


def fonts_of(resources, seen):
    """Yields the font dictionaries of a resource dictionary, XObjects included."""
    if resources is None:
        return
    fonts = resources.get("/Font")
    if fonts is not None:
        for _, font in fonts.items():
            if font.objgen in seen:
                continue
            seen.add(font.objgen)
            yield font
            for d in font.get("/DescendantFonts", []):
                yield d
    xobjects = resources.get("/XObject")
    if xobjects is not None:
        for _, x in xobjects.items():
            if x.objgen in seen:
                continue
            seen.add(x.objgen)
            if x.get("/Subtype") == Name.Form:
                yield from fonts_of(x.get("/Resources"), seen)


def problems(path):
    out = []
    with open(path, "rb") as f:
        head = f.read(8)
    if not head.startswith(b"%PDF-"):
        return ["not a PDF"]
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        return ["encrypted (PDF/A forbids encryption)"]
    except pikepdf.PdfError as e:
        return [f"does not parse: {e}"]
    out += [f"qpdf check: {p}" for p in pdf.check_pdf_syntax()]
    if pdf.is_encrypted:
        out.append("encrypted (PDF/A forbids encryption)")
    if "/ID" not in pdf.trailer:
        out.append("trailer has no /ID")

    root = pdf.Root
    meta_stream = root.get("/Metadata")
    if meta_stream is None:
        out.append("no XMP metadata stream")
    else:
        if "/Filter" in meta_stream:
            out.append("the XMP metadata stream is filtered")
        meta = pdf.open_metadata()
        part = meta.get("pdfaid:part")
        conformance = meta.get("pdfaid:conformance")
        if (part, conformance) != ("2", "B"):
            out.append(f"XMP pdfaid is part={part!r} conformance={conformance!r}, not 2/B")

    intents = [i for i in root.get("/OutputIntents", []) if i.get("/S") == Name("/GTS_PDFA1")]
    if not intents:
        out.append("no /GTS_PDFA1 OutputIntent")
    for i in intents:
        profile = i.get("/DestOutputProfile")
        if profile is None:
            out.append("the OutputIntent has no ICC profile")
        elif int(profile.get("/N", 0)) not in (1, 3, 4):
            out.append("the OutputIntent's ICC profile has no valid /N")
        elif not profile.read_bytes()[36:40] == b"acsp":
            out.append("the OutputIntent's profile is not an ICC profile")

    names = root.get("/Names")
    if names is not None and "/JavaScript" in names:
        out.append("document-level JavaScript")
    if "/AA" in root:
        out.append("document additional actions (/AA)")
    open_action = root.get("/OpenAction")
    if isinstance(open_action, pikepdf.Dictionary) and open_action.get("/S") in (
        Name.JavaScript,
        Name.Launch,
    ):
        out.append("forbidden /OpenAction")

    seen = set()
    fonts = 0
    for n, page in enumerate(pdf.pages, 1):
        for font in fonts_of(page.obj.get("/Resources"), seen):
            fonts += 1
            subtype = font.get("/Subtype")
            if subtype in (Name.Type3, Name.Type0):
                continue  # Type3 glyphs are content; Type0 is checked via its descendant
            descriptor = font.get("/FontDescriptor")
            name = font.get("/BaseFont", "?")
            if descriptor is None or not any(k in descriptor for k in EMBEDDED):
                out.append(f"page {n}: font {name} is not embedded")
        for annot in page.obj.get("/Annots", []):
            action = annot.get("/A")
            if action is not None and action.get("/S") in (Name.JavaScript, Name.Launch):
                out.append(f"page {n}: forbidden annotation action")
    if fonts == 0:
        out.append("no fonts found (a text document has some)")
    return out


if __name__ == "__main__":
    found = problems(sys.argv[1])
    for p in found:
        print(p)
    sys.exit(1 if found else 0)
