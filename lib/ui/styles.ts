// Class names shared by server and client components (no "use client": server
// components call these functions while rendering).

export const inputClass =
  "block h-10 w-full rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm text-zinc-900 shadow-xs " +
  "placeholder:text-zinc-400 focus:border-zinc-500 focus:outline-none focus:ring-2 focus:ring-zinc-300 " +
  "aria-invalid:border-red-400 aria-invalid:focus:ring-red-200 disabled:bg-zinc-100";

const buttonTones = {
  primary: "bg-zinc-900 text-white hover:bg-zinc-700 focus-visible:outline-zinc-900",
  secondary: "bg-white text-zinc-800 ring-1 ring-inset ring-zinc-300 hover:bg-zinc-50 focus-visible:outline-zinc-500",
  danger: "bg-red-600 text-white hover:bg-red-500 focus-visible:outline-red-600",
  dangerOutline: "bg-white text-red-700 ring-1 ring-inset ring-red-200 hover:bg-red-50 focus-visible:outline-red-600",
} as const;

export type ButtonTone = keyof typeof buttonTones;

export function buttonClass(tone: ButtonTone = "primary", size: "sm" | "md" = "md") {
  const sizing = size === "sm" ? "px-2.5 py-1 text-xs" : "px-3.5 py-2 text-sm";
  return (
    `inline-flex items-center justify-center gap-2 whitespace-nowrap rounded-md font-medium shadow-xs transition-colors ` +
    `focus-visible:outline-2 focus-visible:outline-offset-2 disabled:cursor-not-allowed disabled:opacity-60 ` +
    `${sizing} ${buttonTones[tone]}`
  );
}
