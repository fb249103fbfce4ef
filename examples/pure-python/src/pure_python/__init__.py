"""Pure Python: nothing to compile, so the wheel stays `py3-none-any`."""


def rot13(s: str) -> str:
    out = []
    for c in s:
        if "a" <= c <= "z":
            c = chr((ord(c) - 97 + 13) % 26 + 97)
        elif "A" <= c <= "Z":
            c = chr((ord(c) - 65 + 13) % 26 + 65)
        out.append(c)
    return "".join(out)
