package template

import (
	"fmt"
	"math"
	"math/big"
)

// maxIntBits bounds the size of an integer result (about 315,000 decimal
// digits): Python's integers are unbounded, but a template that asks for
// more than this is a mistake or an attack, and computing it would take
// the controller's memory and time.
const maxIntBits = 1 << 20

// toBigInt reports v as an integer when it is one (bools count, as in
// Python).
func toBigInt(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case int:
		return big.NewInt(int64(x)), true
	case bool:
		if x {
			return big.NewInt(1), true
		}
		return big.NewInt(0), true
	case *big.Int:
		return x, true
	}
	return nil, false
}

// normInt returns n as an int when it fits, so that ordinary integers
// stay ints everywhere else, and as a *big.Int otherwise.
func normInt(n *big.Int) any {
	if n.IsInt64() && n.Int64() >= math.MinInt && n.Int64() <= math.MaxInt {
		return int(n.Int64())
	}
	return n
}

// intArith computes the integer operators exactly, as Python does: results
// that do not fit an int become *big.Int instead of wrapping around.
// handled is false for operators it leaves to float arithmetic (true
// division, negative powers).
func intArith(op string, left, right any) (result any, handled bool, err error) {
	a, ok1 := toBigInt(left)
	b, ok2 := toBigInt(right)
	if !ok1 || !ok2 {
		return nil, false, nil
	}
	switch op {
	case "+":
		return normInt(new(big.Int).Add(a, b)), true, nil
	case "-":
		return normInt(new(big.Int).Sub(a, b)), true, nil
	case "*":
		if a.BitLen()+b.BitLen() > maxIntBits {
			return nil, true, fmt.Errorf("integer result too large (about %d bits; the limit is %d)", a.BitLen()+b.BitLen(), maxIntBits)
		}
		return normInt(new(big.Int).Mul(a, b)), true, nil
	case "//", "%":
		if b.Sign() == 0 {
			return nil, true, fmt.Errorf("integer division or modulo by zero")
		}
		q, m := new(big.Int).QuoRem(a, b, new(big.Int))
		// Python rounds the quotient towards negative infinity, so the
		// remainder takes the divisor's sign.
		if m.Sign() != 0 && (m.Sign() < 0) != (b.Sign() < 0) {
			q.Sub(q, big.NewInt(1))
			m.Add(m, b)
		}
		if op == "//" {
			return normInt(q), true, nil
		}
		return normInt(m), true, nil
	case "**":
		return intPow(a, b)
	}
	return nil, false, nil
}

// intPow is a ** b for integers; a negative exponent is left to float
// arithmetic, as Python gives a float.
func intPow(a, b *big.Int) (any, bool, error) {
	if b.Sign() < 0 {
		return nil, false, nil
	}
	if a.CmpAbs(big.NewInt(1)) <= 0 {
		// 0, 1 and -1 stay small whatever the exponent.
		if a.Sign() < 0 && b.Bit(0) == 0 {
			return 1, true, nil
		}
		if b.Sign() == 0 {
			return 1, true, nil
		}
		return normInt(a), true, nil
	}
	if !b.IsInt64() || int64(a.BitLen()-1)*b.Int64() > maxIntBits {
		return nil, true, fmt.Errorf("integer result too large: %s ** %s has more than %d bits", shortInt(a), shortInt(b), maxIntBits)
	}
	return normInt(new(big.Int).Exp(a, b, nil)), true, nil
}

// shortInt prints n, or its size when it is long.
func shortInt(n *big.Int) string {
	if n.BitLen() <= 64 {
		return n.String()
	}
	return fmt.Sprintf("<a %d-bit integer>", n.BitLen())
}

// bigToFloat converts n to the nearest float64 (±Inf when out of range).
func bigToFloat(n *big.Int) float64 {
	f, _ := new(big.Float).SetInt(n).Float64()
	return f
}

// compareBig compares a and b exactly when both are integers and one is a
// *big.Int (float comparison would round them).
func compareBig(a, b any) (int, bool) {
	_, bigA := a.(*big.Int)
	_, bigB := b.(*big.Int)
	if !bigA && !bigB {
		return 0, false
	}
	x, ok1 := toBigInt(a)
	y, ok2 := toBigInt(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	return x.Cmp(y), true
}
