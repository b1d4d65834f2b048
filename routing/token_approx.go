package routing

import (
	"unicode"
	"unicode/utf8"
)

// approxTokens estimates the token count of s without running the tokenizer,
// for routing only (never for reservations: it can undercount). It follows the
// shape of the o200k/cl100k pre-tokenizer, whose pieces are words with their
// leading space, runs of up to three digits, runs of punctuation and runs of
// whitespace: a common word is one token, a long or rare word splits into
// pieces of about five letters, CJK text runs about two tokens per three
// characters. On English prose, Markdown and code it lands within ~10% of the
// exact count (see TestApproxTokensTracksExact); it costs ~3 ns a byte.
func approxTokens(s string) int {
	// Tenths of a token, so that fractional rates stay integer.
	t := 0
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c < utf8.RuneSelf && isASCIILetter(c):
			j := i + 1
			for j < len(s) && s[j] < utf8.RuneSelf && isASCIILetter(s[j]) {
				j++
			}
			t += wordTenths(j - i)
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			t += 10 * ((j - i + 2) / 3)
			i = j
		case c == ' ':
			// A single space belongs to the next word or punctuation.
			j := i + 1
			for j < len(s) && s[j] == ' ' {
				j++
			}
			if j-i > 1 {
				t += 10
			}
			i = j
		case c == '\n' || c == '\r' || c == '\t':
			j := i + 1
			for j < len(s) && (s[j] == '\n' || s[j] == '\r' || s[j] == '\t' || s[j] == ' ') {
				j++
			}
			t += 10
			i = j
		case c < utf8.RuneSelf:
			// Punctuation: common pairs (".\n", "**", "()", "\":") merge.
			j := i + 1
			for j < len(s) && s[j] < utf8.RuneSelf && isASCIIPunct(s[j]) {
				j++
			}
			t += 10 * ((j - i + 1) / 2)
			i = j
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
				unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)):
				t += 7
			case unicode.IsLetter(r) || unicode.IsMark(r):
				// Accented and non-Latin letters: about two runes a token.
				t += 5
			default:
				// Symbols and emoji: a token or more each.
				t += 10 + 5*(size/4)
			}
			i += size
		}
	}
	return (t + 5) / 10
}

// wordTenths is the estimated tokens of an ASCII word of n letters, in tenths:
// words up to nine letters are usually one token, longer ones split.
func wordTenths(n int) int {
	if n <= 9 {
		return 10
	}
	return 10 + (n-9)*10/5
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isASCIIPunct(c byte) bool {
	return c > ' ' && c < 0x7f && !isASCIILetter(c) && (c < '0' || c > '9')
}
