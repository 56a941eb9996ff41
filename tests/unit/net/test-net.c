/*
 * net/: the frame queue (wrap-around, full), the send path's back-pressure
 * contract (queue, stop, flush in order, resume, counted drops), option
 * strings and hostfwd rules, and two real backends on a private main loop:
 * a socket pair (listen= and connect=, QEMU's length-prefixed framing) and
 * the user backend answering a DHCP discover with 10.0.2.15.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "net/backend.h"
#include "net/checksum.h"
#include "net/gso.h"
#include "net/net.h"
#include "net/opts.h"
#include "net/queue.h"

/* ---- a fake NIC that records frames and can refuse them ---- */

typedef struct Fake {
    unsigned frames;
    size_t last_len;
    uint8_t last[2048];
    bool refuse;
    unsigned resumed;
} Fake;

static size_t fake_receive(NetClient *nc, const uint8_t *buf, size_t len)
{
    Fake *f = nc->opaque;
    if (f->refuse) {
        return 0;
    }
    f->frames++;
    f->last_len = len;
    memcpy(f->last, buf, len < sizeof(f->last) ? len : sizeof(f->last));
    return len;
}

static void fake_resume(NetClient *nc)
{
    ((Fake *)nc->opaque)->resumed++;
}

static const NetClientOps fake_ops = {
    .type = "fake", .kind = NET_CLIENT_NIC,
    .receive = fake_receive, .resume = fake_resume,
};

typedef struct Loop {
    GMainContext *ctx;
    GMutex lock;
    TimerList *timers;
    NetHost host;
} Loop;

static void loop_init(Loop *l)
{
    l->ctx = g_main_context_new();
    g_mutex_init(&l->lock);
    l->timers = timerlist_new(l->ctx, &l->lock);
    l->host = (NetHost){ l->ctx, &l->lock, l->timers };
}

static void loop_free(Loop *l)
{
    timerlist_free(l->timers);
    g_main_context_unref(l->ctx);
    g_mutex_clear(&l->lock);
}

static bool run_until(Loop *l, const unsigned *counter, unsigned want)
{
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (*counter < want) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        g_main_context_iteration(l->ctx, FALSE);
        g_usleep(1000);
    }
    return true;
}

/* ---- queue ---- */

static void test_queue_wraps_and_fills(void **state)
{
    NetQueue q;
    net_queue_init(&q, 256);
    uint8_t buf[100];
    size_t len;
    for (unsigned round = 0; round < 50; round++) {
        unsigned pushed = 0;
        while (net_queue_push(&q, buf, 30 + round % 40)) {
            buf[0] = (uint8_t)pushed++;
            memset(buf, (int)(round * 7 + pushed), sizeof(buf));
        }
        assert_true(pushed >= 2);
        assert_int_equal(q.count, pushed);
        for (unsigned i = 0; i < pushed; i++) {
            assert_non_null(net_queue_peek(&q, &len));
            assert_int_equal(len, 30 + round % 40);
            net_queue_pop(&q);
        }
        assert_true(net_queue_empty(&q));
        assert_null(net_queue_peek(&q, &len));
        /* Leave one frame so the next round starts mid-ring. */
        assert_true(net_queue_push(&q, buf, 17));
        assert_non_null(net_queue_peek(&q, &len));
        net_queue_pop(&q);
    }
    assert_false(net_queue_push(&q, buf, 300)); /* larger than the ring */
    net_queue_destroy(&q);
}

static void test_queue_keeps_order_across_wrap(void **state)
{
    NetQueue q;
    net_queue_init(&q, 128);
    uint8_t in = 0, out = 0, buf[40];
    size_t len;
    for (unsigned step = 0; step < 1000; step++) {
        memset(buf, in, sizeof(buf));
        if (net_queue_push(&q, buf, 1 + step % 40)) {
            in++;
        }
        if (step % 3 == 0) {
            const uint8_t *f = net_queue_peek(&q, &len);
            if (f) {
                assert_int_equal(f[0], out);
                out++;
                net_queue_pop(&q);
            }
        }
    }
    const uint8_t *f;
    while ((f = net_queue_peek(&q, &len)) != NULL) {
        assert_int_equal(f[0], out++);
        net_queue_pop(&q);
    }
    assert_int_equal(in, out);
    net_queue_destroy(&q);
}

/* ---- send path ---- */

static void test_backpressure(void **state)
{
    Loop l;
    loop_init(&l);
    Fake fa = { 0 }, fb = { 0 };
    NetClient *a = net_client_new(&fake_ops, &l.host, "a", &fa);
    NetClient *b = net_client_new(&fake_ops, &l.host, "b", &fb);
    uint8_t frame[1500];
    /* No peer: dropped (an unplugged cable). */
    assert_int_equal(net_send(a, frame, 100), NET_DROPPED);
    net_client_connect(a, b);
    memset(frame, 1, sizeof(frame));
    assert_int_equal(net_send(a, frame, 100), NET_SENT);
    assert_int_equal(fb.frames, 1);
    /* b refuses: frames queue, in order, and a is told to stop. */
    fb.refuse = true;
    unsigned queued = 0;
    for (;;) {
        frame[1499] = (uint8_t)queued;
        NetSendResult r = net_send(a, frame, sizeof(frame));
        if (r == NET_DROPPED) {
            break;
        }
        assert_int_equal(r, NET_QUEUED);
        queued++;
    }
    /* The queue holds about NET_QUEUE_BYTES; the overflow is counted. */
    assert_true(queued > 500);
    assert_int_equal(net_client_dropped(b), 1);
    assert_int_equal(fa.resumed, 0);
    /* Still refusing: a flush delivers nothing and resumes nobody. */
    net_client_flush(b);
    assert_int_equal(fb.frames, 1);
    assert_int_equal(fa.resumed, 0);
    fb.refuse = false;
    net_client_flush(b);
    assert_int_equal(fb.frames, 1 + queued);
    assert_int_equal(fb.last[1499], (uint8_t)(queued - 1)); /* in order */
    assert_int_equal(fa.resumed, 1);
    /* Link down on either side: dropped. */
    net_client_set_link(b, false);
    assert_false(net_client_link_up(a));
    assert_int_equal(net_send(a, frame, 100), NET_DROPPED);
    net_client_set_link(b, true);
    assert_int_equal(net_send(a, frame, 100), NET_SENT);
    /* Purge empties the queue and resumes the sender. */
    fb.refuse = true;
    assert_int_equal(net_send(a, frame, 100), NET_QUEUED);
    net_client_purge(b);
    assert_int_equal(fa.resumed, 2);
    net_client_free(a);
    net_client_free(b);
    loop_free(&l);
}

/* ---- options ---- */

static void test_opts(void **state)
{
    NetOpts o;
    GError *err = NULL;
    assert_true(net_opts_parse(&o, "user,id=n0,hostfwd=tcp::1-:2,hostfwd=udp::3-:4,"
                                   "hostname=a,,b", &err));
    assert_string_equal(o.type, "user");
    assert_string_equal(net_opts_get(&o, "id"), "n0");
    assert_string_equal(net_opts_get_nth(&o, "hostfwd", 0), "tcp::1-:2");
    assert_string_equal(net_opts_get_nth(&o, "hostfwd", 1), "udp::3-:4");
    assert_null(net_opts_get_nth(&o, "hostfwd", 2));
    assert_string_equal(net_opts_get(&o, "hostname"), "a,b");
    assert_true(net_opts_check_all_used(&o, &err));
    net_opts_free(&o);
    assert_true(net_opts_parse(&o, "tap,id=t,bogus=1", &err));
    net_opts_get(&o, "id");
    assert_false(net_opts_check_all_used(&o, &err));
    assert_non_null(strstr(err->message, "bogus"));
    g_clear_error(&err);
    net_opts_free(&o);
    assert_false(net_opts_parse(&o, "user,id", &err));
    g_clear_error(&err);
}

static void test_hostfwd(void **state)
{
    NetHostFwd f;
    GError *err = NULL;
    assert_true(net_parse_hostfwd("tcp::5555-:22", &f, &err));
    assert_false(f.udp);
    assert_int_equal(f.host_port, 5555);
    assert_int_equal(f.guest_port, 22);
    assert_int_equal(f.host_addr, 0);
    assert_true(net_parse_hostfwd("udp:127.0.0.1:53-10.0.2.20:5353", &f, &err));
    assert_true(f.udp);
    assert_int_equal(ntohl(f.host_addr), 0x7f000001);
    assert_int_equal(ntohl(f.guest_addr), 0x0a000214);
    static const char *const bad[] = {
        "tcp::5555", "tcp::99999-:22", "tcp::1-:0", "sctp::1-:2",
        "tcp:300.1.1.1:1-:2", "tcp::x-:2", "tcp::1-:2:3", "", "tcp:1-2",
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        assert_false(net_parse_hostfwd(bad[i], &f, &err));
        assert_non_null(strstr(err->message, "invalid hostfwd"));
        g_clear_error(&err);
    }
}

static void test_backend_errors(void **state)
{
    Loop l;
    loop_init(&l);
    static const char *const bad[] = {
        "user", "user,id=n,net=10.0.2.0/33", "user,id=n,host=10.9.9.9",
        "user,id=n,restrict=maybe", "user,id=n,hostfwd=tcp::1", "bogus,id=n",
        "socket,id=s", "socket,id=s,listen=:1,connect=a:2",
        "socket,id=s,mcast=10.0.0.1:5000", "socket,id=s,connect=:80",
        "tap,id=t,ifname=abcdefghijklmnopqrstuvwxyz",
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *err = NULL;
        assert_null(net_backend_new(&l.host, bad[i], &err));
        assert_non_null(err);
        assert_null(strchr(err->message, '\n'));
        g_clear_error(&err);
    }
    loop_free(&l);
}

/* ---- real backends ---- */

static void test_socket_pair(void **state)
{
    Loop l;
    loop_init(&l);
    GError *err = NULL;
    /* Find a free port by binding a listener to port 0 first. */
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(probe, (struct sockaddr *)&sa, sizeof(sa)), 0);
    getsockname(probe, (struct sockaddr *)&sa, &sl);
    close(probe);
    gchar *ls = g_strdup_printf("socket,id=a,listen=127.0.0.1:%u", ntohs(sa.sin_port));
    gchar *cs = g_strdup_printf("socket,id=b,connect=127.0.0.1:%u", ntohs(sa.sin_port));
    NetClient *a = net_backend_new(&l.host, ls, &err);
    assert_non_null(a);
    NetClient *b = net_backend_new(&l.host, cs, &err);
    assert_non_null(b);
    Fake fa = { 0 }, fb = { 0 };
    NetClient *nica = net_client_new(&fake_ops, &l.host, "nica", &fa);
    NetClient *nicb = net_client_new(&fake_ops, &l.host, "nicb", &fb);
    net_client_connect(nica, a);
    net_client_connect(nicb, b);
    /* b -> a: the listener accepts on the main loop, then frames flow. */
    uint8_t frame[1000];
    for (unsigned i = 0; i < 20; i++) {
        memset(frame, (int)i, sizeof(frame));
        g_mutex_lock(&l.lock);
        assert_int_equal(net_send(nicb, frame, 60 + i * 40), NET_SENT);
        g_mutex_unlock(&l.lock);
    }
    assert_true(run_until(&l, &fa.frames, 20));
    assert_int_equal(fa.last_len, 60 + 19 * 40);
    assert_int_equal(fa.last[0], 19);
    /* a -> b */
    g_mutex_lock(&l.lock);
    assert_int_equal(net_send(nica, frame, 999), NET_SENT);
    g_mutex_unlock(&l.lock);
    assert_true(run_until(&l, &fb.frames, 1));
    assert_int_equal(fb.last_len, 999);
    net_client_free(nica);
    net_client_free(nicb);
    net_client_free(a);
    net_client_free(b);
    g_free(ls);
    g_free(cs);
    loop_free(&l);
}

/* Two VMs on one multicast group: each datagram is one frame. */
static void test_socket_mcast(void **state)
{
    Loop l;
    loop_init(&l);
    GError *err = NULL;
    unsigned port = 20000 + (unsigned)(getpid() % 20000);
    gchar *spec_a = g_strdup_printf("socket,id=a,mcast=230.0.0.77:%u,localaddr=127.0.0.1", port);
    gchar *spec_b = g_strdup_printf("socket,id=b,mcast=230.0.0.77:%u,localaddr=127.0.0.1", port);
    NetClient *a = net_backend_new(&l.host, spec_a, &err);
    assert_non_null(a);
    NetClient *b = net_backend_new(&l.host, spec_b, &err);
    assert_non_null(b);
    Fake fa = { 0 }, fb = { 0 };
    NetClient *nica = net_client_new(&fake_ops, &l.host, "nica", &fa);
    NetClient *nicb = net_client_new(&fake_ops, &l.host, "nicb", &fb);
    net_client_connect(nica, a);
    net_client_connect(nicb, b);
    uint8_t frame[300];
    memset(frame, 0x5a, sizeof(frame));
    g_mutex_lock(&l.lock);
    assert_int_equal(net_send(nica, frame, sizeof(frame)), NET_SENT);
    g_mutex_unlock(&l.lock);
    assert_true(run_until(&l, &fb.frames, 1));
    assert_int_equal(fb.last_len, sizeof(frame));
    assert_int_equal(fb.last[0], 0x5a);
    net_client_free(nica);
    net_client_free(nicb);
    net_client_free(a);
    net_client_free(b);
    g_free(spec_a);
    g_free(spec_b);
    loop_free(&l);
}

/* A DHCP discover from 52:54:00:12:34:56 (RFC 2131, BOOTP layout). */
static size_t dhcp_discover(uint8_t *f)
{
    memset(f, 0, 342);
    memset(f, 0xff, 6);
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    memcpy(f + 6, mac, 6);
    f[12] = 0x08;
    uint8_t *ip = f + 14, *udp = ip + 20, *bootp = udp + 8;
    size_t bootp_len = 300;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + 8 + bootp_len) >> 8);
    ip[3] = (uint8_t)(20 + 8 + bootp_len);
    ip[8] = 64;
    ip[9] = 17;
    memset(ip + 16, 0xff, 4);
    uint32_t sum = 0;
    for (unsigned i = 0; i < 20; i += 2) {
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = (uint8_t)(~sum >> 8);
    ip[11] = (uint8_t)~sum;
    udp[1] = 68;
    udp[3] = 67;
    udp[4] = (uint8_t)((8 + bootp_len) >> 8);
    udp[5] = (uint8_t)(8 + bootp_len);
    bootp[0] = 1;
    bootp[1] = 1;
    bootp[2] = 6;
    bootp[4] = 0x12; /* xid */
    memcpy(bootp + 28, mac, 6);
    static const uint8_t opts[] = { 0x63, 0x82, 0x53, 0x63, 53, 1, 1, 255 };
    memcpy(bootp + 236, opts, sizeof(opts));
    return 14 + 20 + 8 + bootp_len;
}

static void test_user_dhcp(void **state)
{
    Loop l;
    loop_init(&l);
    GError *err = NULL;
    NetClient *user = net_backend_new(&l.host, "user,id=u,restrict=on", &err);
    assert_non_null(user);
    Fake fn = { 0 };
    NetClient *nic = net_client_new(&fake_ops, &l.host, "nic", &fn);
    net_client_connect(nic, user);
    uint8_t frame[400];
    size_t len = dhcp_discover(frame);
    g_mutex_lock(&l.lock);
    assert_int_equal(net_send(nic, frame, len), NET_SENT);
    g_mutex_unlock(&l.lock);
    assert_true(run_until(&l, &fn.frames, 1));
    /* A DHCP offer: UDP 67 -> 68, BOOTP reply, yiaddr 10.0.2.15. */
    const uint8_t *r = fn.last;
    assert_true(fn.last_len > 14 + 20 + 8 + 240);
    assert_int_equal(r[12], 0x08);
    assert_int_equal(r[14 + 9], 17);
    const uint8_t *udp = r + 14 + (r[14] & 0xf) * 4, *bootp = udp + 8;
    assert_int_equal(udp[1], 67);
    assert_int_equal(udp[3], 68);
    assert_int_equal(bootp[0], 2);
    assert_int_equal(bootp[4], 0x12);
    assert_memory_equal(bootp + 16, ((uint8_t[]){ 10, 0, 2, 15 }), 4);
    net_client_free(nic);
    net_client_free(user);
    loop_free(&l);
}

/* ---- segmentation ---- */

typedef struct Segs {
    unsigned n;
    size_t len[64];
    uint8_t data[64][1600];
} Segs;

static void collect(void *opaque, const uint8_t *seg, size_t len)
{
    Segs *s = opaque;
    assert_true(s->n < 64 && len <= 1600);
    s->len[s->n] = len;
    memcpy(s->data[s->n], seg, len);
    s->n++;
}

static void test_gso_tcp(void **state)
{
    static uint8_t f[14 + 20 + 32 + 5000];
    size_t payload = 5000, hdr = 14 + 20 + 32;
    memset(f, 0, sizeof(f));
    f[12] = 0x08;
    uint8_t *ip = f + 14, *tcp = ip + 20;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + 32 + payload) >> 8);
    ip[3] = (uint8_t)(20 + 32 + payload);
    ip[4] = 0xab;
    ip[5] = 0xff; /* the ID wraps */
    ip[8] = 64;
    ip[9] = 6;
    ip[12] = 10; ip[15] = 15; ip[16] = 10; ip[19] = 2;
    tcp[4] = 0xff; tcp[5] = 0xff; tcp[6] = 0xff; tcp[7] = 0x00; /* seq wraps */
    tcp[12] = 0x80;               /* 32-byte header (options) */
    tcp[13] = 0x80 | 0x18 | 0x01; /* CWR PSH ACK FIN */
    for (size_t i = 0; i < payload; i++) {
        f[hdr + i] = (uint8_t)(i * 13);
    }
    static uint8_t scratch[2000];
    static Segs s;
    memset(&s, 0, sizeof(s));
    assert_true(net_gso_tcp(f, sizeof(f), 1448, scratch, sizeof(scratch),
                            collect, &s));
    assert_int_equal(s.n, 4);
    size_t off = 0;
    for (unsigned i = 0; i < s.n; i++) {
        size_t seg = i < 3 ? 1448 : payload - 3 * 1448;
        const uint8_t *g = s.data[i];
        assert_int_equal(s.len[i], hdr + seg);
        NetRxCsum r;
        net_rx_csum_check(g, s.len[i], &r);
        assert_true(r.ipv4 && r.ip_ok && r.l4 && r.tcp && r.l4_ok);
        assert_int_equal((g[18] << 8) | g[19], (0xabff + i) & 0xffff);
        uint32_t seq = ((uint32_t)g[38] << 24) | (g[39] << 16) | (g[40] << 8) |
                       g[41];
        assert_int_equal(seq, (uint32_t)(0xffffff00u + off));
        uint8_t flags = g[47];
        assert_int_equal(flags & 0x80, i == 0 ? 0x80 : 0);
        assert_int_equal(flags & 0x09, i == 3 ? 0x09 : 0);
        assert_memory_equal(g + hdr, f + hdr + off, seg);
        off += seg;
    }
    /* Not TCP, or a scratch buffer too small: refused, nothing sent. */
    memset(&s, 0, sizeof(s));
    assert_false(net_gso_tcp(f, sizeof(f), 1448, scratch, 100, collect, &s));
    ip[9] = 17;
    assert_false(net_gso_tcp(f, sizeof(f), 1448, scratch, sizeof(scratch),
                             collect, &s));
    assert_false(net_gso_tcp(f, 30, 1448, scratch, sizeof(scratch), collect, &s));
    assert_int_equal(s.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_wraps_and_fills),
        cmocka_unit_test(test_queue_keeps_order_across_wrap),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_opts),
        cmocka_unit_test(test_hostfwd),
        cmocka_unit_test(test_backend_errors),
        cmocka_unit_test(test_socket_pair),
        cmocka_unit_test(test_socket_mcast),
        cmocka_unit_test(test_user_dhcp),
        cmocka_unit_test(test_gso_tcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
