package routing

import "unicode/utf8"

// boundTokens bounds the token count of s on o200k and cl100k from the shape of
// the pre-tokenizer's pieces, for texts the request path has not counted. It is
// not a proof (only "at most one token a byte" is), but it holds where the
// plain length bound (upperBoundTokens) does not: base64, hex, UUIDs, random
// identifiers, punctuation and newline runs, emoji. Rules, per piece:
//   - ASCII letters split as o200k splits them (a new piece where a lowercase
//     letter meets an uppercase one); a piece that reads like a word (a vowel,
//     no more than four consonants in a row) counts one token up to five
//     letters and one more per three beyond (a word: lowercase or capitalized,
//     or an acronym of up to four capitals), any other piece three tokens per
//     four letters (random letters run ~one token per two), and so does a
//     piece that touches a digit (hex, base64, keys);
//   - digits: one token per group of three (both encodings split numbers so,
//     and every 1–3 digit string is a token);
//   - punctuation, newlines, tabs and non-ASCII bytes: one token each (a token
//     is at least one byte);
//   - a single space joins the next piece; longer runs of spaces, one token per
//     four.
//
// TestBoundTokensHolds checks it against both encodings on prose, code and the
// awkward cases above; on prose it is ~1.3× the true count.
func boundTokens(s string) int {
	n := 0
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case isASCIILetter(c):
			j := i + 1
			for j < len(s) && isASCIILetter(s[j]) && !(isLower(s[j-1]) && !isLower(s[j])) {
				j++
			}
			// Letters touching digits are an identifier (hex, base64, a key), not a word.
			inID := (i > 0 && isDigit(s[i-1])) || (j < len(s) && isDigit(s[j]))
			n += letterPieceBound(s[i:j], inID)
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			n += (j - i + 2) / 3
			i = j
		case c == ' ':
			j := i + 1
			for j < len(s) && s[j] == ' ' {
				j++
			}
			if j-i > 1 {
				n += (j - i + 3) / 4
			}
			i = j
		case c < utf8.RuneSelf:
			n++
			i++
		default:
			n++
			i++
		}
	}
	return n
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// letterPieceBound bounds the tokens of one piece of ASCII letters.
func letterPieceBound(p string, inID bool) int {
	n := len(p)
	vowel, run, maxRun := false, 0, 0
	for k := 0; k < n; k++ {
		switch p[k] | 0x20 {
		case 'a', 'e', 'i', 'o', 'u', 'y':
			vowel, run = true, 0
		default:
			run++
			maxRun = max(maxRun, run)
		}
	}
	// A word has at most one capital, at its start ("Paris"), or is a short
	// acronym ("HTTP"); other mixes of case are identifiers or random.
	upper := 0
	for k := 0; k < n; k++ {
		if !isLower(p[k]) {
			upper++
		}
	}
	wordCase := upper == 0 || (upper == 1 && !isLower(p[0])) || (upper == n && n <= 4)
	if !inID && wordCase && (vowel || upper == n) && maxRun <= 4 {
		if n <= 5 {
			return 1
		}
		return 1 + (n-5+2)/3
	}
	return (3*n + 3) / 4
}
