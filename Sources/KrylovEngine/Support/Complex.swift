/// A complex number, just enough for changes of basis (spherical harmonics, ladder operators).
struct Complex: Sendable, Equatable {
  var re: Double
  var im: Double
  init(_ re: Double, _ im: Double) {
    self.re = re
    self.im = im
  }
  static let zero = Complex(0, 0)
  static let one = Complex(1, 0)
  static let i = Complex(0, 1)
  var conjugate: Complex { Complex(re, -im) }
  var magnitude: Double { (re * re + im * im).squareRoot() }
  static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
  static func * (a: Complex, b: Complex) -> Complex { Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re) }
  static func * (a: Double, b: Complex) -> Complex { Complex(a * b.re, a * b.im) }
}
