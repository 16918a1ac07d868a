#include <stdio.h>

struct ops {
	const char *name;
	int (*apply)(int, int);
	int (*check)(int);
};

static int add(int a, int b) { return a + b; }
static int mul(int a, int b) { return a * b; }
static int positive(int v) { return v > 0; }
static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static const struct ops table[] = {
	{ .name = "add", .apply = add, .check = positive },
	{ .name = "mul", .apply = mul },
};

static int run(const struct ops *o, int a, int b)
{
	int v = o->apply(a, b);

	if (o->check && !o->check(v))
		return -1;
	return v;
}

int main(void)
{
	int (*pick)(int, int) = sizeof(table) > 16 ? mul : add;

	for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		printf("%s %d %d ", table[i].name, run(&table[i], 6, 7), run(&table[i], -6, 2));
	printf("\n%d %d %d\n", pick(3, 4), (*pick)(5, 5), fib(15));
	return 0;
}
