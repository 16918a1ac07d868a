#include <stdio.h>

static int trace;

static int acquire(int step, int fail_at)
{
	trace = trace * 10 + step;
	return step == fail_at ? -(10 + step) : 0;
}

static void release(int step) { trace = trace * 10 + (9 - step); }

static int setup(int fail_at)
{
	int ret;

	trace = 0;
	ret = acquire(1, fail_at);
	if (ret)
		goto out;
	ret = acquire(2, fail_at);
	if (ret)
		goto undo1;
	for (int i = 3; i <= 4; i++) {
		ret = acquire(i, fail_at);
		if (ret) {
			if (i == 4)
				goto undo3;
			goto undo2;
		}
	}
	return 0;
undo3:
	release(3);
undo2:
	release(2);
undo1:
	release(1);
out:
	return ret;
}

static const char *classify(int c)
{
	switch (c) {
	case 'a': case 'e': case 'i': case 'o': case 'u':
		return "vowel";
	case '0': case '5': case '9':
		return "digit";
	default:
		if (c == ' ')
			return "space";
		return "other";
	}
}

static int machine(const char *s)
{
	int state = 0, n = 0;

	for (; *s; s++) {
		switch (state) {
		case 0:
			if (*s == '(') { state = 1; continue; }
			break;
		case 1:
			if (*s == ')') { state = 2; break; }
			n++;
			/* fall through */
		case 2:
			n += 100;
			if (*s == '!')
				goto done;
			break;
		}
		n += 1000;
	}
done:
	return n * 10 + state;
}

int main(void)
{
	for (int f = 0; f <= 5; f++) {
		int r = setup(f);
		printf("%d:%d:%d ", f, r, trace);
	}
	printf("\n%s %s %s\n", classify('o'), classify(' '), classify('x'));
	printf("%d %d\n", machine("ab(cd)e!f"), machine("x(y"));
	int i = 0, s = 0;
	do {
		if (++i == 3)
			continue;
		s += i;
	} while (i < 6);
	printf("%d %d\n", i, s);
	return 0;
}
