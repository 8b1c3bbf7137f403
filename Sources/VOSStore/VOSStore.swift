public enum VOSStore {}
