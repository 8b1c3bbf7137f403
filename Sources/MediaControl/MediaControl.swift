/// MediaControl owns the controller <-> vos-mediad protocol: message types, wire codec and client.
/// It must not relay packets or touch the kernel.
public enum MediaControl {}
