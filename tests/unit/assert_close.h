/* cmocka's assert_float_equal converts to float (and casts only the first
 * operand of an expression); measurements need doubles. */
#ifndef EDGEBENCH_TEST_ASSERT_CLOSE_H
#define EDGEBENCH_TEST_ASSERT_CLOSE_H

#include <math.h>

#define assert_close(a, b, tol)                                                                    \
    do {                                                                                           \
        const double eb_a_ = (double)(a), eb_b_ = (double)(b), eb_t_ = (double)(tol);              \
        if (!(fabs(eb_a_ - eb_b_) <= eb_t_)) {                                                     \
            print_error("%.12g is not within %.3g of %.12g\n", eb_a_, eb_t_, eb_b_);               \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

#endif
