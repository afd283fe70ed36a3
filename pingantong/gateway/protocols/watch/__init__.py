"""The text "watch" protocol (`[3G*ID*LEN*TYPE,…]`) used by most Chinese elderly-care watches."""
