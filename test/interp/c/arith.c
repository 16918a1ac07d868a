#include <stdio.h>

static unsigned char uc(int x) { return x; }

int main(void)
{
	signed char sc = -100;
	unsigned char u8 = 200;
	short s = -30000;
	unsigned short us = 65000;
	int i = -2000000000;
	unsigned int u = 3000000000u;
	long l = -9000000000000000000L;
	unsigned long ul = 18000000000000000000UL;
	long long ll = 123456789012345LL;

	printf("%d %d %d %d\n", sc + u8, sc * u8, s - us, (short)(s - us));
	printf("%d %u %u %d\n", i + i, u + u, u * 3u, i / 7);
	printf("%ld %lu %lld %ld\n", l - 1000000000000000000L, ul + ul, ll * 1000, l % 1000);
	printf("%d %d %d %d\n", sc < u8, i < u, -1 < 1u, (long)-1 < 1u);
	printf("%u %d %u %d\n", ~u8, ~sc, u >> 3, i >> 3);
	printf("%d %d %x %x\n", (sc & 0x7f) | 1, sc ^ u8, u << 4, (unsigned)i << 1);
	u8 += 100;
	sc -= 100;
	us *= 3;
	s <<= 1;
	i -= 2000000000;
	printf("%d %d %d %d %d\n", u8, sc, us, s, i);
	printf("%d %d %d\n", uc(513), (signed char)uc(255), (unsigned char)-1 == 255);
	printf("%d %d %d %d\n", 7 / -2, -7 / 2, 7 % -2, -7 % 2);
	printf("%lu %lu %lu %lu\n", sizeof(sc + sc), sizeof(u8 << 1), sizeof(ul + i), sizeof(ll));
	printf("%d %d %d\n", !i, !!ll, i && 0 || u);
	int a = 5, b = 3;
	int c = a++ + ++b, d = (a, b);
	printf("%d %d %d %d %d\n", a, b, c, d, a > b ? a : b);
	return 0;
}
