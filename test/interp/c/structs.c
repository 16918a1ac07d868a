#include <stdio.h>

struct point { short x; int y; };
struct shape {
	char kind;
	struct point pts[3];
	union { unsigned int word; unsigned char bytes[4]; } u;
	unsigned int flags : 4, level : 12;
	long area;
};

static long area2(const struct point *p, int n)
{
	long a = 0;

	for (int i = 0; i < n; i++) {
		const struct point *q = &p[(i + 1) % n];
		a += (long)p[i].x * q->y - (long)q->x * p[i].y;
	}
	return a < 0 ? -a : a;
}

static struct point mid(struct point a, struct point b)
{
	struct point m = { (short)((a.x + b.x) / 2), (a.y + b.y) / 2 };
	return m;
}

int main(void)
{
	struct shape s = { .kind = 't', .pts = { { 0, 0 }, { 40, 0 }, [2] = { .y = 30, .x = 0 } }, .u.word = 0x11223344 };
	struct shape copy;
	struct shape *p = &s;
	int arr[6] = { 1, 2, 3 };
	int *ip = arr + 1;
	char *bp = (char *)&s;

	p->flags = 0x1f;
	p->level = 4095;
	s.area = area2(s.pts, 3);
	copy = s;
	copy.pts[1].x = 100;
	printf("%c %ld %d %d %u %u\n", s.kind, s.area, copy.pts[1].x, s.pts[1].x, s.flags, s.level);
	printf("%x %x %d\n", s.u.bytes[0], s.u.bytes[3], bp[0]);
	struct point m = mid(s.pts[1], s.pts[2]);
	printf("%d %d\n", m.x, m.y);
	*ip++ = 20;
	*(ip + 2) = 50;
	ip[-2] += 100;
	printf("%d %d %d %d %d %d %ld\n", arr[0], arr[1], arr[2], arr[3], arr[4], arr[5], ip - arr);
	printf("%lu %lu %lu\n", sizeof(struct point), sizeof(struct shape), sizeof s.u);
	int grid[3][4];
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			grid[r][c] = r * 10 + c;
	int (*row)[4] = &grid[1];
	printf("%d %d %d %lu\n", grid[2][3], (*row)[2], row[1][0], sizeof grid[0]);
	return 0;
}
