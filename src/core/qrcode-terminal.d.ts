// qrcode-terminal 0.12 ships no types; only generate() is used.
declare module 'qrcode-terminal' {
  const qrcode: {
    generate(input: string, opts: { small?: boolean }, cb: (output: string) => void): void;
    setErrorLevel(level: 'L' | 'M' | 'Q' | 'H'): void;
  };
  export default qrcode;
}
