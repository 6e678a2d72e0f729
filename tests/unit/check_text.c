/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <check.h>
#include <string.h>

#include "lib/text.h"
#include "unit.h"

static const char *escaped(const char *in, bool quote)
{
	static char out[256];

	text_escape(out, sizeof(out), in, quote);
	return out;
}

START_TEST(test_printable_kept)
{
	ck_assert_str_eq(escaped("web server 8080", false), "web server 8080");
	/* Letters of any script stay as they are: Ä, é, 日本, an emoji. */
	ck_assert_str_eq(escaped("\xc3\x84rger \xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xae", false),
			 "\xc3\x84rger \xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xae");
	ck_assert_str_eq(escaped("a \"b\" \\c", false), "a \"b\" \\c");
	ck_assert_str_eq(escaped("a \"b\" \\c", true), "a \\\"b\\\" \\\\c");
}
END_TEST

START_TEST(test_controls_escaped)
{
	/* C0, DEL, ESC's sequences */
	ck_assert_str_eq(escaped("a\nb\rc\td\x7f", false), "a\\x0ab\\x0dc\\x09d\\x7f");
	ck_assert_str_eq(escaped("\x1b[2J", false), "\\x1b[2J");
	/* U+009B, the CSI of C1, as UTF-8 (what issue 9's attacker sent), and
	 * the other C1 controls */
	ck_assert_str_eq(escaped("x\xc2\x9b" "31m", false), "x\\xc2\\x9b31m");
	ck_assert_str_eq(escaped("\xc2\x80\xc2\x9f", false), "\\xc2\\x80\\xc2\\x9f");
	/* U+00A0 (no-break space) is the first one shown as it is */
	ck_assert_str_eq(escaped("\xc2\xa0", false), "\xc2\xa0");
	/* line separator, right-to-left override, isolates */
	ck_assert_str_eq(escaped("\xe2\x80\xa8\xe2\x80\xae\xe2\x81\xa6", false),
			 "\\xe2\\x80\\xa8\\xe2\\x80\\xae\\xe2\\x81\\xa6");
}
END_TEST

START_TEST(test_invalid_utf8_escaped)
{
	/* a lone C1 byte (an 8-bit terminal's CSI), a lone continuation,
	 * a truncated sequence, an overlong '/', a surrogate, beyond U+10FFFF */
	ck_assert_str_eq(escaped("\x9b" "1m", false), "\\x9b1m");
	ck_assert_str_eq(escaped("\x80", false), "\\x80");
	ck_assert_str_eq(escaped("\xe6\x97", false), "\\xe6\\x97");
	ck_assert_str_eq(escaped("\xc0\xaf", false), "\\xc0\\xaf");
	ck_assert_str_eq(escaped("\xed\xa0\x80", false), "\\xed\\xa0\\x80");
	ck_assert_str_eq(escaped("\xf4\x90\x80\x80", false), "\\xf4\\x90\\x80\\x80");
	ck_assert_uint_eq(text_safe_char("\xc3"), 0);
	ck_assert_uint_eq(text_safe_char(""), 0);
}
END_TEST

/* Cut to fit, never inside an escape or a character. */
START_TEST(test_bounded)
{
	char out[8];

	ck_assert_uint_eq(text_escape(out, sizeof(out), "\x1b\x1b\x1b", false), 4);
	ck_assert_str_eq(out, "\\x1b");
	ck_assert_uint_eq(text_escape(out, sizeof(out), "abcdef\xe6\x97\xa5", false), 6);
	ck_assert_str_eq(out, "abcdef");
	ck_assert_uint_eq(text_escape(out, 1, "abc", false), 0);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(text_escape(out, 0, "abc", false), 0);
	{
		char big[TEXT_ESCAPED_MAX(128)], in[129];

		memset(in, 0x9b, 128);
		in[128] = '\0';
		ck_assert_uint_eq(text_escape(big, sizeof(big), in, true), 4 * 128);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("escape");

	tcase_add_test(tc, test_printable_kept);
	tcase_add_test(tc, test_controls_escaped);
	tcase_add_test(tc, test_invalid_utf8_escaped);
	tcase_add_test(tc, test_bounded);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
