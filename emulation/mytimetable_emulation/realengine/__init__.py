"""The real Pulumi CLI and engine against local Entra: a throwaway workspace (`workspace`), the
relay in front of the Python language host (`language_shim`), and `rehearse`, which deploys a
stack's config there before it touches a tenant."""
