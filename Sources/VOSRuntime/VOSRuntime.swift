public enum VOSRuntime {}
